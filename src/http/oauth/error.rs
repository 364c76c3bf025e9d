//! RFC 6749 §5.2 error responses for the token, revocation and introspection endpoints:
//! `{"error","error_description"}`, 400 (or 401 with `WWW-Authenticate` for `invalid_client`
//! over Basic), never cached. The domain's `OAuthRefusal` becomes bytes here, and only here. A
//! server error keeps its cause for the request's one log line (`http::root_span` writes it),
//! never for the body.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, PRAGMA, WWW_AUTHENTICATE};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::domain::grants::OAuthRefusal;
use crate::error::{AppError, UNAVAILABLE_RETRY_AFTER_SECS};

/// An OAuth error as the wire shows it.
#[derive(Debug)]
pub struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: Option<String>,
    basic_challenge: bool,
    retry_after: Option<i64>,
    /// A server error's cause: logged, never sent.
    cause: Option<String>,
}

impl OAuthError {
    /// A 400 error.
    pub fn bad(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error,
            description: Some(description.into()),
            basic_challenge: false,
            retry_after: None,
            cause: None,
        }
    }

    /// 401 `invalid_client`; `basic` adds the `WWW-Authenticate: Basic` challenge (RFC 6749
    /// §5.2 requires it when the client tried HTTP Basic).
    pub fn invalid_client(basic: bool) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: Some("Client authentication failed.".into()),
            basic_challenge: basic,
            retry_after: None,
            cause: None,
        }
    }

    /// 429 with `Retry-After`: too many recent failed client authentications from this address
    /// for this client. RFC 6749 §5.2 has no code for it; `invalid_client` says which check
    /// tripped, the description says to wait (`slow_down` is the device grant's, RFC 8628).
    pub fn throttled(wait: i64) -> Self {
        Self {
            status: StatusCode::TOO_MANY_REQUESTS,
            error: "invalid_client",
            description: Some(format!(
                "Too many failed client authentications from this address: wait {wait} s before trying again."
            )),
            basic_challenge: false,
            retry_after: Some(wait),
            cause: None,
        }
    }

    /// 500 `server_error`, details only in the log; or, when the database cannot be reached,
    /// 503 `temporarily_unavailable` with `Retry-After` (RFC 6749 §4.1.2.1 names the code): the
    /// request may be valid, so it is neither refused nor blamed on the server's code.
    pub fn server(err: &AppError) -> Self {
        let cause = match err {
            AppError::Internal(inner) => format!("{inner:#}"),
            AppError::Unavailable(inner) => {
                return Self {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    error: "temporarily_unavailable",
                    description: Some(err.to_string()),
                    basic_challenge: false,
                    retry_after: Some(UNAVAILABLE_RETRY_AFTER_SECS.cast_signed()),
                    cause: Some(format!("{inner:#}")),
                };
            }
            other => other.to_string(),
        };
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            error: "server_error",
            description: None,
            basic_challenge: false,
            retry_after: None,
            cause: Some(cause),
        }
    }

    /// What the log line should say beyond the body: a server error's cause.
    pub fn cause(&self) -> Option<&str> {
        self.cause.as_deref()
    }
}

impl From<AppError> for OAuthError {
    fn from(err: AppError) -> Self {
        Self::server(&err)
    }
}

impl From<OAuthRefusal> for OAuthError {
    fn from(refusal: OAuthRefusal) -> Self {
        match refusal {
            OAuthRefusal::Refused { code, description } => Self::bad(code.as_str(), description),
            OAuthRefusal::InvalidClient { basic } => Self::invalid_client(basic),
            OAuthRefusal::Throttled { wait } => Self::throttled(wait),
            OAuthRefusal::Failed(err) => Self::server(&err),
        }
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.error)
    }
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        res.insert_header((CACHE_CONTROL, "no-store"))
            .insert_header((PRAGMA, "no-cache"));
        if let Some(wait) = self.retry_after {
            res.insert_header((actix_web::http::header::RETRY_AFTER, wait.to_string()));
        }
        if self.basic_challenge {
            res.insert_header((
                WWW_AUTHENTICATE,
                "Basic realm=\"portcullis\", charset=\"UTF-8\"",
            ));
        }
        let body = match &self.description {
            Some(d) => json!({"error": self.error, "error_description": d}),
            None => json!({"error": self.error}),
        };
        res.json(body)
    }
}
