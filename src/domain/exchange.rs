//! Turning a long-lived credential into a short-lived access token (RFC 8693 token exchange, and
//! the seed-shaped routes `/api/v0/login` and `/auth/token` built on it). The token carries at
//! most the credential's permissions, its tenant, its environment, and its id, so revoking the
//! credential revokes the token.

use std::net::IpAddr;

use crate::domain::credentials::{Credential, CredentialService, Environment, Refusal};
use crate::domain::jwt::AccessClaims;
use crate::domain::scope::ScopeSet;
use crate::domain::tokens::{Mint, TokenService};
use crate::error::{AppError, Result};

/// Session tokens (`domain::session_tokens`) are issued to this pseudo-client.
pub const SESSION_CLIENT: &str = "portcullis-session";

/// Mints a token for a verified credential, narrowed to `scope` when given.
pub fn token_for(
    tokens: &TokenService,
    c: &Credential,
    scope: Option<&ScopeSet>,
    ttl: Option<i64>,
    grant: &str,
) -> Result<(String, AccessClaims)> {
    let allowed = c.scopes();
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
    let owner = c.user_id.as_deref().unwrap_or(&c.id);
    tokens.mint_with(Mint {
        owner_id: owner,
        client_id: &c.id,
        scope: &granted.to_string(),
        tid: Some(c.tenant_id.clone()),
        env: c
            .environment
            .filter(|e| *e == Environment::Test)
            .map(|e| e.as_str().to_owned()),
        cid: Some(c.id.clone()),
        ttl,
        grant,
        ..Mint::default()
    })
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
        Ok(c) => token_for(tokens, &c, scope, ttl, grant).map(Ok),
        Err(Refusal::Failed(e)) => Err(e),
        Err(r) => Ok(Err(r)),
    }
}

/// A client-credentials token for a client acting for itself; a system credential's token carries
/// its tenant and roles.
pub fn token_for_client(
    tokens: &TokenService,
    client: &crate::domain::client::Client,
) -> Result<(String, AccessClaims)> {
    let system = client.kind == crate::domain::client::ClientKind::System;
    tokens.mint_with(Mint {
        owner_id: &client.id,
        client_id: &client.id,
        scope: &client.scopes.to_string(),
        tid: client.tenant_id.clone(),
        roles: system.then(|| {
            client
                .roles
                .iter()
                .map(crate::domain::roles::RoleClaim::from)
                .collect()
        }),
        ..Mint::default()
    })
}
