//! Turning a long-lived credential into a short-lived access token (RFC 8693 token exchange, and
//! the seed-shaped routes `/api/v0/login` and `/auth/token` built on it). The token carries at
//! most the credential's permissions, its tenant, its environment, and its id, so revoking the
//! credential revokes the token.

use std::net::IpAddr;

use crate::domain::credentials::{Credential, CredentialService, Environment, Refusal};
use crate::domain::jwt::AccessClaims;
use crate::domain::principal::Principal;
use crate::domain::scope::ScopeSet;
use crate::domain::secret_format::{self, Kind};
use crate::domain::tokens::{Mint, TokenService};
use crate::error::{AppError, Result};

/// Session tokens (`domain::session_tokens`) are issued to this pseudo-client.
pub const SESSION_CLIENT: &str = "portcullis-session";

/// Mints a token for a verified credential, narrowed to `scope` when given. The token carries at
/// most what the credential may do now (its permissions narrowed to its owner's live role), and
/// expires no later than the credential.
pub async fn token_for(
    creds: &CredentialService,
    tokens: &TokenService,
    c: &Credential,
    ip: Option<IpAddr>,
    scope: Option<&ScopeSet>,
    ttl: Option<i64>,
    grant: &str,
) -> Result<Result<(String, AccessClaims), Refusal>> {
    let effective = match creds
        .policy()
        .effective(Principal::from_credential(c), ip)
        .await
    {
        Ok(p) => p,
        Err(Refusal::Failed(e)) => return Err(e),
        Err(r) => return Ok(Err(r)),
    };
    let allowed = effective.scopes;
    let granted = match scope {
        Some(s) if !allowed.contains_all(s) => {
            return Err(AppError::validation(
                "scope",
                "The requested scope exceeds the credential's permissions.",
            ));
        }
        Some(s) => s.clone(),
        None => allowed,
    };
    let ttl = ttl.unwrap_or_else(|| tokens.access_ttl());
    let ttl = match c.effective_expiry(None) {
        Some(exp) => ttl.min(exp - creds.clock().now()).max(1),
        None => ttl,
    };
    let owner = c.user_id.as_deref().unwrap_or(&c.id);
    tokens
        .mint_with(Mint {
            owner_id: owner,
            client_id: &c.id,
            scope: &granted.to_string(),
            tid: Some(c.tenant_id.clone()),
            env: c
                .environment
                .filter(|e| *e == Environment::Test)
                .map(|e| e.as_str().to_owned()),
            cid: Some(c.id.clone()),
            ttl: Some(ttl),
            grant,
            ..Mint::default()
        })
        .map(Ok)
}

/// Verifies a presented credential and exchanges it.
pub async fn exchange(
    creds: &CredentialService,
    tokens: &TokenService,
    secret: &str,
    ip: Option<IpAddr>,
    scope: Option<&ScopeSet>,
    ttl: Option<i64>,
    grant: &str,
) -> Result<Result<(String, AccessClaims), Refusal>> {
    match creds.verify(secret, ip).await {
        Ok(c) => token_for(creds, tokens, &c, ip, scope, ttl, grant).await,
        Err(Refusal::Failed(e)) => Err(e),
        Err(r) => Ok(Err(r)),
    }
}

/// `/api/v0/login` with a bearer personal token: a token of any other kind is refused before any
/// lookup; a personal token buys an access token of the configured lifetime.
pub async fn personal_token_login(
    creds: &CredentialService,
    tokens: &TokenService,
    secret: &str,
    ip: Option<IpAddr>,
) -> Result<Result<(String, AccessClaims), Refusal>> {
    if secret_format::check(secret) != Ok(Kind::PersonalToken) {
        return Ok(Err(Refusal::Invalid));
    }
    let ttl = tokens.access_ttl();
    exchange(creds, tokens, secret, ip, None, Some(ttl), "personal_token").await
}
