//! Why the token endpoint refused: RFC 6749 §5.2's error codes, with the description the client
//! reads. `http::oauth::error` turns a refusal into bytes, once; nothing here knows HTTP.

use std::borrow::Cow;

use crate::error::AppError;

/// RFC 6749 §5.2 (and RFC 8693 §2.2.2) error codes the token endpoint answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthErrorCode {
    /// A required parameter is missing, repeated or malformed.
    InvalidRequest,
    /// The code, refresh token or subject token is invalid, expired, revoked or not this
    /// client's.
    InvalidGrant,
    /// The client may not use this grant.
    UnauthorizedClient,
    /// The server does not know this grant type.
    UnsupportedGrantType,
    /// The scope is unknown or exceeds what may be granted.
    InvalidScope,
}

impl OAuthErrorCode {
    /// The code as the wire spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
        }
    }
}

/// A token request the server will not honour.
#[derive(Debug)]
pub enum OAuthRefusal {
    /// A 400 error with a description.
    Refused {
        /// What went wrong.
        code: OAuthErrorCode,
        /// Why, for the client's developer.
        description: Cow<'static, str>,
    },
    /// Client authentication failed (RFC 6749 §5.2 `invalid_client`); `basic` when the client
    /// tried HTTP Basic, which must then be challenged.
    InvalidClient {
        /// The client tried HTTP Basic.
        basic: bool,
    },
    /// Too many recent failures from this address for this client: wait this many seconds.
    Throttled {
        /// Seconds to wait.
        wait: i64,
    },
    /// The server failed (`server_error`, details only in the log).
    Failed(AppError),
}

impl OAuthRefusal {
    /// A 400 refusal.
    pub fn new(code: OAuthErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self::Refused {
            code,
            description: description.into(),
        }
    }

    /// `invalid_request` with a description.
    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(OAuthErrorCode::InvalidRequest, description)
    }

    /// `invalid_grant` with a description.
    pub fn invalid_grant(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(OAuthErrorCode::InvalidGrant, description)
    }

    /// `invalid_scope` with a description.
    pub fn invalid_scope(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(OAuthErrorCode::InvalidScope, description)
    }

    /// Whether the failure throttle counts it: only failed client authentication, which is how
    /// a secret is guessed. Codes and refresh tokens carry 256 bits, so their failures are a
    /// busy app's double submits and refresh races, never an attack worth locking it out for.
    pub fn counts_as_failure(&self) -> bool {
        matches!(self, Self::InvalidClient { .. })
    }

    /// Whether it is recorded as `token.failure`: failed client authentication and refused
    /// grants (a replayed or foreign code is worth a line in the audit log, though not a
    /// throttle strike).
    pub fn is_audited(&self) -> bool {
        matches!(
            self,
            Self::InvalidClient { .. }
                | Self::Refused {
                    code: OAuthErrorCode::InvalidGrant,
                    ..
                }
        )
    }

    /// The error code as the wire spells it.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Refused { code, .. } => code.as_str(),
            Self::InvalidClient { .. } => "invalid_client",
            Self::Throttled { .. } => "invalid_client",
            Self::Failed(AppError::Unavailable(_)) => "temporarily_unavailable",
            Self::Failed(_) => "server_error",
        }
    }
}

impl From<AppError> for OAuthRefusal {
    fn from(err: AppError) -> Self {
        Self::Failed(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failed_client_authentication_counts_as_a_failure() {
        assert!(OAuthRefusal::InvalidClient { basic: false }.counts_as_failure());
        assert!(!OAuthRefusal::invalid_grant("x").counts_as_failure());
        assert!(OAuthRefusal::invalid_grant("x").is_audited());
        assert!(!OAuthRefusal::new(OAuthErrorCode::UnsupportedGrantType, "x").counts_as_failure());
        assert!(!OAuthRefusal::invalid_request("x").counts_as_failure());
        assert!(!OAuthRefusal::invalid_scope("x").counts_as_failure());
        assert!(!OAuthRefusal::Throttled { wait: 1 }.counts_as_failure());
        let failed = OAuthRefusal::Failed(AppError::internal(anyhow::anyhow!("db")));
        assert!(!failed.counts_as_failure());
        assert_eq!(failed.code(), "server_error");
    }
}
