//! The token endpoint's grants (RFC 6749 §4, RFC 8693), one operation each, every one reading
//! top to bottom: the client is authenticated, the grant is checked, the token is minted, and
//! minting records `token.issued`. `Grants::token` is the one entry: it picks the grant, and
//! keeps the failure throttle and the `token.failure` event around all of them.
//!
//! Nothing here parses HTTP: the handler reads the wire into a `TokenRequest`, and
//! `http::oauth::error` turns an `OAuthRefusal` into bytes.

pub mod authorization_code;
pub mod client_credentials;
pub mod refresh;
mod refusal;
pub mod token_exchange;

use std::net::IpAddr;

pub use refusal::{OAuthErrorCode, OAuthRefusal};

use crate::clock::Clock;
use crate::domain::audit::AuditEvent;
use crate::domain::client::{self, Client, GrantType};
use crate::domain::credentials::CredentialService;
use crate::domain::tokens::TokenService;
use crate::error::AppError;
use crate::runtime::audit_writer::Auditor;
use crate::runtime::cache::Caches;
use crate::runtime::throttle::{self, FailureThrottle};
use crate::secret::{ClientSecret, RefreshToken};
use crate::storage::Db;

/// What the grants need, borrowed from the server's state for one request.
pub struct Grants<'a> {
    /// Database (client lookups).
    pub db: &'a Db,
    /// The server's caches (clients).
    pub caches: &'a Caches,
    /// Codes, refresh tokens and minting.
    pub tokens: &'a TokenService,
    /// Long-lived credentials and the policy (token exchange).
    pub credentials: &'a CredentialService,
    /// The token endpoint's failure throttle.
    pub throttle: &'a FailureThrottle,
    /// The audit log.
    pub auditor: &'a Auditor,
    /// The server's clock.
    pub clock: &'a Clock,
}

/// Client credentials as the request presented them (RFC 6749 §2.3.1), not yet checked.
/// No `Debug`: it carries the secret.
pub struct PresentedClient {
    /// The client id.
    pub id: String,
    /// The secret (absent for public clients).
    pub secret: Option<ClientSecret>,
    /// Sent with HTTP Basic (a failure must then be challenged).
    pub basic: bool,
    /// Sent with HTTP Basic and also named by `client_id` in the body.
    pub id_in_body_too: bool,
}

/// The form parameters of a token request; each is `None` when absent or sent more than once
/// (RFC 6749 §3.2: parameters must not be repeated). No `Debug`: codes, verifiers and tokens
/// are secrets.
#[derive(Default)]
pub struct TokenForm {
    /// `grant_type`.
    pub grant_type: Option<String>,
    /// `code` (authorization code grant).
    pub code: Option<String>,
    /// `redirect_uri` (authorization code grant).
    pub redirect_uri: Option<String>,
    /// `code_verifier` (PKCE).
    pub code_verifier: Option<String>,
    /// `refresh_token` (refresh grant).
    pub refresh_token: Option<String>,
    /// `scope`.
    pub scope: Option<String>,
    /// `subject_token` (token exchange).
    pub subject_token: Option<String>,
    /// `subject_token_type` (token exchange).
    pub subject_token_type: Option<String>,
}

/// A token request as read from the wire.
pub struct TokenRequest {
    /// Source address: the throttle's key and the token exchange's allow-list check.
    pub ip: Option<IpAddr>,
    /// The presented client credentials, `None` when none were sent, or why they could not be
    /// read.
    pub client: Result<Option<PresentedClient>, OAuthRefusal>,
    /// The form, or why it could not be read.
    pub form: Result<TokenForm, OAuthRefusal>,
}

/// A successful token response (RFC 6749 §5.1; RFC 8693 §2.2.1 adds `issued_token_type`).
/// No `Debug`: it carries the tokens.
pub struct IssuedToken {
    /// The access token: a JWT, or an opaque `at_` token for clients that chose that format.
    pub access_token: String,
    /// Seconds until it expires.
    pub expires_in: i64,
    /// A refresh token (authorization-code and refresh grants, for clients allowed to refresh).
    pub refresh_token: Option<RefreshToken>,
    /// Granted scopes, in canonical order.
    pub scope: String,
    /// RFC 8693's `issued_token_type` (token exchange only).
    pub issued_token_type: Option<&'static str>,
    /// An OpenID Connect ID token (authorization-code and refresh grants with `openid`).
    pub id_token: Option<String>,
}

/// RFC 8693's grant type.
pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

impl Grants<'_> {
    /// `POST /oauth/token`: runs the requested grant. Throttled per source address and presented
    /// client after repeated failed client authentications; those and refused grants are
    /// recorded as `token.failure`; nothing else counts.
    pub async fn token(&self, req: TokenRequest) -> Result<IssuedToken, OAuthRefusal> {
        let presented = req
            .client
            .as_ref()
            .ok()
            .and_then(|c| c.as_ref().map(|c| c.id.clone()))
            .unwrap_or_default();
        let key = throttle::key(req.ip, &presented);
        let now = self.clock.now();
        self.throttle.check(&key, now).await.map_err(|wait| {
            crate::runtime::metrics::throttled("token_endpoint");
            OAuthRefusal::Throttled { wait }
        })?;
        let result = self.grant(req).await;
        if let Err(refusal) = &result
            && refusal.is_audited()
        {
            if refusal.counts_as_failure() {
                self.throttle.fail(&key, now).await;
            }
            self.tokens.count_token_request(&presented, true);
            self.auditor.record(
                AuditEvent::here("token.failure")
                    .by("client", &presented)
                    .failed()
                    .detail(serde_json::json!({"error": refusal.code()})),
            );
        }
        result
    }

    async fn grant(&self, req: TokenRequest) -> Result<IssuedToken, OAuthRefusal> {
        let form = req.form?;
        let grant_type = form
            .grant_type
            .clone()
            .ok_or_else(|| OAuthRefusal::invalid_request("grant_type is required."))?;
        if grant_type == TOKEN_EXCHANGE {
            return token_exchange::exchange(self, req.client, &form, req.ip).await;
        }
        let grant = GrantType::parse(&grant_type).ok_or_else(|| {
            OAuthRefusal::new(
                OAuthErrorCode::UnsupportedGrantType,
                format!("Unsupported grant_type: {grant_type}"),
            )
        })?;
        match grant {
            GrantType::AuthorizationCode => {
                authorization_code::exchange(self, req.client, &form).await
            }
            GrantType::RefreshToken => refresh::exchange(self, req.client, &form).await,
            GrantType::ClientCredentials => {
                client_credentials::exchange(self, req.client, &form).await
            }
        }
    }

    /// Authenticates the presented client (RFC 6749 §2.3.1): a confidential client by its
    /// secret, a public client by its bare id. Every failure is `invalid_client`.
    pub async fn authenticate_client(
        &self,
        presented: Result<Option<PresentedClient>, OAuthRefusal>,
    ) -> Result<Client, OAuthRefusal> {
        let p = presented?.ok_or(OAuthRefusal::InvalidClient { basic: false })?;
        let hasher = self.tokens.hasher();
        let secret = p.secret.as_ref().map(ClientSecret::expose);
        match client::authenticate(
            self.db,
            self.caches,
            hasher,
            &p.id,
            secret,
            self.clock.now(),
        )
        .await
        {
            Ok(c) => Ok(c),
            Err(AppError::Unauthenticated(_)) => {
                Err(OAuthRefusal::InvalidClient { basic: p.basic })
            }
            Err(e) => Err(OAuthRefusal::Failed(e)),
        }
    }

    /// Authenticates the client and checks it may use `grant` (RFC 6749 §5.2
    /// `unauthorized_client`); client credentials need a confidential client (§4.4).
    async fn client_for(
        &self,
        presented: Result<Option<PresentedClient>, OAuthRefusal>,
        grant: GrantType,
    ) -> Result<Client, OAuthRefusal> {
        let client = self.authenticate_client(presented).await?;
        if !client.allows(grant) || (grant == GrantType::ClientCredentials && client.is_public) {
            return Err(OAuthRefusal::new(
                OAuthErrorCode::UnauthorizedClient,
                format!("This client may not use the {} grant.", grant.as_str()),
            ));
        }
        Ok(client)
    }
}

/// A parameter the grant requires, present once and not empty.
fn required<'f>(value: &'f Option<String>, key: &str) -> Result<&'f str, OAuthRefusal> {
    match value.as_deref() {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(OAuthRefusal::invalid_request(format!(
            "{key} is required (once)."
        ))),
    }
}
