//! JSON Web Tokens this server signs, and the keys behind them: access tokens (RFC 9068),
//! always EdDSA, and OpenID Connect ID tokens, RS256 or EdDSA as each client asks.
//!
//! Keys live in the database (created on first start, added by `portcullis keys rotate`, one
//! per algorithm each time); each server keeps them parsed in memory. For each algorithm the
//! newest key signs; a retired key stays published until every token it signed has expired,
//! and a retired Ed25519 key keeps verifying access tokens until then.
//!
//! - `stored`: keys in their persisted form, making new ones, and their public JWKs.
//! - `key_set`: the keys parsed once, signing and verifying.
//! - `rsa_key`: the parsed RSA key behind RS256 ID tokens.
//! - `shared`: the key set all workers share, replaced when keys change.

mod key_set;
mod rsa_key;
mod shared;
mod stored;

pub use key_set::{KeySet, VerifyError};
pub use shared::Keys;
pub use stored::{StoredKey, generate_key, public_jwk};

use serde::{Deserialize, Serialize};

/// The algorithms this server signs with (RFC 7518 §3.1 names, RFC 8037 §3.1 for EdDSA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum SigningAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256 over an RSA-2048 key: what OpenID Connect relying parties
    /// accept by default (Core §15.1), so the default for ID tokens.
    #[serde(rename = "RS256")]
    Rs256,
    /// Ed25519 (RFC 8037): every access token, and ID tokens for clients that ask for it.
    #[serde(rename = "EdDSA")]
    EdDsa,
}

impl SigningAlg {
    /// Every algorithm, in the order discovery lists them.
    pub const ALL: [SigningAlg; 2] = [SigningAlg::Rs256, SigningAlg::EdDsa];

    /// The JOSE name (`alg`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::EdDsa => "EdDSA",
        }
    }

    /// Parses a JOSE name, exactly as written (JOSE names are case-sensitive, RFC 7515 §4.1.1).
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == raw)
    }
}

impl std::fmt::Display for SigningAlg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The JOSE `typ` of access tokens (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// The JOSE `typ` of ID tokens: a plain JWT (OpenID Connect Core §2 names none).
pub const ID_TOKEN_TYPE: &str = "JWT";

/// The claims of a Portcullis access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    /// Issuer URL.
    pub iss: String,
    /// The user's public id (`usr_…`), or the client id for client-credentials tokens.
    pub sub: String,
    /// Audience: this server's issuer URL (Portcullis's own API).
    pub aud: String,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Issue time, Unix seconds.
    pub iat: i64,
    /// Unique token id (UUID v7).
    pub jti: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// Space-separated scopes.
    pub scope: String,
    /// The token family (authorization-code grants): revoking it revokes the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
    /// The tenant the token acts in (tokens exchanged from a credential).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<String>,
    /// `test` for tokens from test-mode API keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    /// The credential the token was exchanged from: revoking it revokes the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<String>,
    /// A system credential's roles (`[]` with `full_access: true` when it has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<crate::domain::roles::RoleClaim>>,
    /// Present for system credentials: true when they have no roles, so no limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_access: Option<bool>,
    /// Session tokens: the browser session they belong to (OpenID Connect's session id claim,
    /// Front-Channel Logout 1.0 §3). A random id kept in the session, never its cookie key:
    /// the token dies with the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// How the person signed in for the grant (RFC 9068 §2.2.1, values from RFC 8176): tokens
    /// of the authorization-code and refresh grants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
    /// What that sign-in is worth (RFC 9068 §2.2.1): `auth_methods::ACR_SINGLE` or `ACR_MULTI`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithms_parse_by_their_exact_jose_names() {
        assert_eq!(SigningAlg::parse("RS256"), Some(SigningAlg::Rs256));
        assert_eq!(SigningAlg::parse("EdDSA"), Some(SigningAlg::EdDsa));
        for bad in ["rs256", "eddsa", "HS256", "none", "", "RS256 "] {
            assert_eq!(SigningAlg::parse(bad), None, "{bad:?}");
        }
        assert_eq!(
            serde_json::to_string(&SigningAlg::ALL).unwrap(),
            r#"["RS256","EdDSA"]"#
        );
    }
}
