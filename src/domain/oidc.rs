//! OpenID Connect Core 1.0 on top of the authorization-code grant: which claims each identity
//! scope releases (§5.4), what an ID token says (§2, with `at_hash` from §3.1.3.6), and the
//! UserInfo operation (§5.3). Nothing here reads HTTP: the handlers in `http::oauth` pass the
//! bearer token in and render what comes back.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha512};

use crate::domain::context::Context;
use crate::domain::scope::ScopeSet;
use crate::domain::tokens::{BearerError, TokenService};
use crate::domain::user::User;
use crate::error::{AppError, Result};
use crate::storage;

/// The scope that makes an authorization request an OpenID Connect one (Core §3.1.2.1).
pub const OPENID: &str = "openid";

/// The JOSE `typ` of ID tokens.
pub const ID_TOKEN_TYPE: &str = "JWT";

/// Every claim this server may release, for the discovery document.
pub const CLAIMS_SUPPORTED: &[&str] = &[
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "at_hash",
    "azp",
    "name",
    "updated_at",
    "email",
    "email_verified",
];

/// Whether a (space-separated) granted scope includes `openid`.
pub fn is_openid(scope: &str) -> bool {
    scope.split(' ').any(|s| s == OPENID)
}

/// The person's claims that `scopes` release (Core §5.4): `sub` always; `name` and
/// `updated_at` with `profile`; `email` and `email_verified` with `email`. Addresses are not
/// verified yet, so `email_verified` is false.
pub fn user_claims(user: &User, scopes: &ScopeSet) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(user.public_id()));
    if scopes.has("profile") {
        claims.insert("name".into(), json!(user.name));
        claims.insert("updated_at".into(), json!(user.updated_at));
    }
    if scopes.has("email") {
        claims.insert("email".into(), json!(user.email));
        claims.insert("email_verified".into(), json!(false));
    }
    claims
}

/// `at_hash` (Core §3.1.3.6): the left half of the hash of the access token, base64url. The
/// hash is the one the ID token's `alg` implies: ID tokens are signed with Ed25519 keys, whose
/// hash is SHA-512 (OpenID Connect Token Hash Algorithms §2, as relying parties compute it).
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha512::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..32])
}

/// The claims of an ID token (Core §2).
#[derive(Debug, Serialize)]
pub struct IdTokenClaims {
    /// The issuer.
    pub iss: String,
    /// The person's public id (`usr_…`), stable for the account's life.
    pub sub: String,
    /// The client.
    pub aud: String,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// When the person signed in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// The authorization request's nonce, echoed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Binds the ID token to the access token issued with it.
    pub at_hash: String,
    /// The authorized party: the client (Core §2, a single audience).
    pub azp: String,
}

/// What an ID token is issued for.
pub struct IdTokenFor<'a> {
    /// The person's stored id.
    pub user_id: &'a str,
    /// The client.
    pub client_id: &'a str,
    /// The access token issued alongside.
    pub access_token: &'a str,
    /// When the person signed in, if known.
    pub auth_time: Option<i64>,
    /// The authorization request's nonce (never sent on refresh).
    pub nonce: Option<String>,
}

impl IdTokenFor<'_> {
    /// The claims, issued by `issuer` at `now`, living `ttl` seconds.
    pub fn claims(self, issuer: &str, now: i64, ttl: i64) -> IdTokenClaims {
        IdTokenClaims {
            iss: issuer.to_owned(),
            sub: User::public_id_of(self.user_id),
            aud: self.client_id.to_owned(),
            exp: now + ttl,
            iat: now,
            auth_time: self.auth_time,
            nonce: self.nonce,
            at_hash: at_hash(self.access_token),
            azp: self.client_id.to_owned(),
        }
    }
}

/// Signs an ID token with the server's active key; it lives as long as an access token.
pub fn id_token(tokens: &TokenService, what: IdTokenFor<'_>) -> Result<String> {
    let claims = what.claims(tokens.issuer(), tokens.clock().now(), tokens.access_ttl());
    tokens.keys().current().sign_typed(&claims, ID_TOKEN_TYPE)
}

/// Why the UserInfo endpoint refused a request (Core §5.3.3, RFC 6750 §3.1).
#[derive(Debug)]
pub enum UserinfoRefusal {
    /// No token at all: 401 with a bare challenge (RFC 6750 §3.1).
    NoToken,
    /// Missing, malformed, expired, revoked, or not a person's token: 401 `invalid_token`.
    InvalidToken,
    /// A valid token without `openid`: 403 `insufficient_scope`.
    InsufficientScope,
    /// Storage failed.
    Failed(AppError),
}

/// The UserInfo operation (Core §5.3): the claims of the person `access_token` speaks for, as
/// far as its scopes release them.
pub async fn userinfo(
    ctx: &Context,
    tokens: &TokenService,
    access_token: Option<&str>,
) -> Result<Map<String, Value>, UserinfoRefusal> {
    let token = access_token.ok_or(UserinfoRefusal::NoToken)?;
    let claims = tokens.verify_bearer(token).await.map_err(|e| match e {
        BearerError::Unchecked(e) => UserinfoRefusal::Failed(e),
        BearerError::Expired | BearerError::Invalid => UserinfoRefusal::InvalidToken,
    })?;
    let scopes = ScopeSet::parse(&claims.scope).map_err(|_| UserinfoRefusal::InvalidToken)?;
    if !scopes.has(OPENID) {
        return Err(UserinfoRefusal::InsufficientScope);
    }
    // A client's own token names no person.
    let user_id = User::id_from_public(&claims.sub).ok_or(UserinfoRefusal::InvalidToken)?;
    let user = storage::users::find_user(ctx.db(), &user_id)
        .await
        .map_err(UserinfoRefusal::Failed)?
        .ok_or(UserinfoRefusal::InvalidToken)?;
    Ok(user_claims(&user, &scopes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ada() -> User {
        User {
            id: "0190f3a2-1111-7222-8333-444455556666".into(),
            email: "ada@example.com".into(),
            name: "Ada".into(),
            is_admin: false,
            created_at: 1,
            updated_at: 2,
        }
    }

    #[test]
    fn claims_follow_the_granted_scopes() {
        let only = user_claims(&ada(), &ScopeSet::parse("openid").unwrap());
        assert_eq!(Value::Object(only), json!({"sub": ada().public_id()}));
        let all = user_claims(&ada(), &ScopeSet::parse("openid profile email").unwrap());
        assert_eq!(
            Value::Object(all),
            json!({"sub": ada().public_id(), "name": "Ada", "updated_at": 2,
                   "email": "ada@example.com", "email_verified": false})
        );
    }

    #[test]
    fn at_hash_is_the_left_half_of_the_sha512_for_ed25519() {
        // OpenID Connect Core §A.3's example access token, hashed as Ed25519 implies.
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "q7nS86GgvvFaZkzALLWqJYaJIKw2wCDAVfCAsm5CrBM"
        );
    }

    #[test]
    fn id_token_claims_name_the_client_and_echo_the_nonce() {
        let c = IdTokenFor {
            user_id: &ada().id,
            client_id: "app",
            access_token: "at",
            auth_time: Some(5),
            nonce: Some("n".into()),
        }
        .claims("https://auth", 10, 60);
        assert_eq!((c.aud.as_str(), c.azp.as_str()), ("app", "app"));
        assert_eq!((c.iat, c.exp, c.auth_time), (10, 70, Some(5)));
        assert_eq!(c.sub, ada().public_id());
        assert_eq!(c.nonce.as_deref(), Some("n"));
        assert!(is_openid("email openid") && !is_openid("openidx"));
    }
}
