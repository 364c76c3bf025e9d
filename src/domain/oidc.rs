//! OpenID Connect Core 1.0 on top of the authorization-code grant: which claims each identity
//! scope releases (§5.4), what an ID token says (§2, with `at_hash` from §3.1.3.6) and which key
//! signs it (the client's `id_token_signed_response_alg`, RS256 unless it asked for EdDSA), and
//! the UserInfo operation (§5.3). Nothing here reads HTTP: the handlers in `http::oauth` pass
//! the bearer token in and render what comes back.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256, Sha512};

use crate::domain::accounts;
use crate::domain::auth_methods::AuthMethods;
use crate::domain::context::Context;
use crate::domain::grants::Grants;
use crate::domain::jwt::SigningAlg;
use crate::domain::scope::ScopeSet;
use crate::domain::tokens::{BearerError, TokenService};
use crate::domain::user::User;
use crate::error::{AppError, Result};
use crate::storage;

/// The scope that makes an authorization request an OpenID Connect one (Core §3.1.2.1).
pub const OPENID: &str = "openid";

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
    "amr",
    "acr",
    "sid",
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
/// `updated_at` with `profile`; `email` and `email_verified` with `email`. An address counts as
/// verified once an administrator has marked it so (see `domain::people`).
pub fn user_claims(user: &User, scopes: &ScopeSet) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(user.public_id()));
    if scopes.has("profile") {
        claims.insert("name".into(), json!(user.name));
        claims.insert("updated_at".into(), json!(user.updated_at));
    }
    if scopes.has("email") {
        claims.insert("email".into(), json!(user.email));
        claims.insert("email_verified".into(), json!(user.email_verified));
    }
    claims
}

/// `at_hash` (Core §3.1.3.6): the left half of the hash of the access token, base64url. The
/// hash is the one the ID token's `alg` implies: SHA-256 for RS256 (RFC 7518 §3.3), SHA-512
/// for Ed25519 keys (OpenID Connect Token Hash Algorithms §2, as relying parties compute it).
pub fn at_hash(alg: SigningAlg, access_token: &str) -> String {
    match alg {
        SigningAlg::Rs256 => URL_SAFE_NO_PAD.encode(&Sha256::digest(access_token.as_bytes())[..16]),
        SigningAlg::EdDsa => URL_SAFE_NO_PAD.encode(&Sha512::digest(access_token.as_bytes())[..32]),
    }
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
    /// Authentication methods (Core §2, RFC 8176): `pwd`, plus `otp` and `mfa` after a second
    /// factor.
    pub amr: Vec<&'static str>,
    /// Authentication context class (Core §2): `auth_methods::ACR_SINGLE` or `ACR_MULTI`.
    pub acr: &'static str,
    /// The browser session the person approved in (Front-Channel Logout 1.0 §3, Back-Channel
    /// Logout 1.0 §2.4), the same on every ID token of the grant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The person's address (with the `email` scope).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether an administrator verified that address (with the `email` scope).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
}

/// What an ID token is issued for.
pub struct IdTokenFor<'a> {
    /// The person's stored id.
    pub user_id: &'a str,
    /// The client.
    pub client_id: &'a str,
    /// The scopes granted with it (`email` puts the address in).
    pub scope: &'a str,
    /// The access token issued alongside.
    pub access_token: &'a str,
    /// When the person signed in, if known.
    pub auth_time: Option<i64>,
    /// The authorization request's nonce (never sent on refresh).
    pub nonce: Option<String>,
    /// The browser session the grant was approved in, if known.
    pub sid: Option<String>,
    /// How the person signed in for the grant (a password when unknown).
    pub methods: AuthMethods,
    /// The algorithm the client registered (`id_token_signed_response_alg`).
    pub alg: SigningAlg,
}

impl IdTokenFor<'_> {
    /// The claims, issued by `issuer` at `now`, living `ttl` seconds; `user` is the person,
    /// whose address goes in when the `email` scope was granted.
    pub fn claims(self, issuer: &str, now: i64, ttl: i64, user: Option<&User>) -> IdTokenClaims {
        let email = user.filter(|_| self.scope.split(' ').any(|s| s == "email"));
        IdTokenClaims {
            iss: issuer.to_owned(),
            sub: User::public_id_of(self.user_id),
            aud: self.client_id.to_owned(),
            exp: now + ttl,
            iat: now,
            auth_time: self.auth_time,
            nonce: self.nonce,
            at_hash: at_hash(self.alg, self.access_token),
            azp: self.client_id.to_owned(),
            amr: self.methods.amr(),
            acr: self.methods.acr(),
            sid: self.sid,
            email: email.map(|u| u.email.clone()),
            email_verified: email.map(|u| u.email_verified),
        }
    }
}

/// Signs an ID token with the server's active key of the client's algorithm; it lives as long
/// as an access token. With RS256 on a new database this waits for the RSA key being made.
pub async fn id_token(g: &Grants<'_>, what: IdTokenFor<'_>) -> Result<String> {
    let user = if what.scope.split(' ').any(|s| s == "email") {
        accounts::find_cached_in(g.db, g.caches, what.user_id).await?
    } else {
        None
    };
    let alg = what.alg;
    let keys = g.tokens.keys().ready_for(alg).await?;
    let tokens = g.tokens;
    let claims = what.claims(
        tokens.issuer(),
        tokens.clock().now(),
        tokens.access_ttl(),
        user.as_ref(),
    );
    keys.sign_id_token(&claims, alg)
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
            email_verified: true,
            created_at: 1,
            updated_at: 2,
            disabled_at: None,
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
                   "email": "ada@example.com", "email_verified": true})
        );
    }

    #[test]
    fn at_hash_is_the_left_half_of_the_hash_the_alg_implies() {
        // OpenID Connect Core §A.3's example access token and its RS256 `at_hash`.
        let token = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
        assert_eq!(at_hash(SigningAlg::Rs256, token), "77QmUPtjPfzWtF2AnpK9RQ");
        // The same token hashed as Ed25519 implies (SHA-512).
        assert_eq!(
            at_hash(SigningAlg::EdDsa, token),
            "q7nS86GgvvFaZkzALLWqJYaJIKw2wCDAVfCAsm5CrBM"
        );
    }

    fn for_app(scope: &str) -> IdTokenFor<'_> {
        IdTokenFor {
            user_id: "0190f3a2-1111-7222-8333-444455556666",
            client_id: "app",
            scope,
            access_token: "at",
            auth_time: Some(5),
            nonce: Some("n".into()),
            sid: Some("s-1".into()),
            methods: AuthMethods::default(),
            alg: SigningAlg::Rs256,
        }
    }

    #[test]
    fn id_token_claims_name_the_client_echo_the_nonce_and_carry_amr_and_sid() {
        let c = for_app("openid").claims("https://auth", 10, 60, Some(&ada()));
        assert_eq!((c.aud.as_str(), c.azp.as_str()), ("app", "app"));
        assert_eq!((c.iat, c.exp, c.auth_time), (10, 70, Some(5)));
        assert_eq!(c.sub, ada().public_id());
        assert_eq!(c.nonce.as_deref(), Some("n"));
        assert_eq!(c.amr, ["pwd"]);
        assert_eq!(c.acr, crate::domain::auth_methods::ACR_SINGLE);
        assert_eq!(c.sid.as_deref(), Some("s-1"));
        assert_eq!(c.at_hash, at_hash(SigningAlg::Rs256, "at"));
        assert_eq!((c.email, c.email_verified), (None, None), "no email scope");
        assert!(is_openid("email openid") && !is_openid("openidx"));
    }

    #[test]
    fn the_email_scope_puts_the_address_and_its_verification_in_the_id_token() {
        let c = for_app("openid email").claims("https://auth", 10, 60, Some(&ada()));
        assert_eq!(c.email.as_deref(), Some("ada@example.com"));
        assert_eq!(c.email_verified, Some(true));
    }
}
