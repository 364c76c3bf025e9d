//! The client credentials grant (RFC 6749 §4.4): a confidential client, or a tenant's system
//! credential, gets an access token for itself, never a refresh token (§4.4.3). One mint serves
//! both doors: `POST /oauth/token` and the seed-shaped `POST /api/v0/login` with HTTP Basic.

use super::{Grants, IssuedToken, OAuthRefusal, PresentedClient, TokenForm};
use crate::domain::client::{self, Client, ClientKind, GrantType};
use crate::domain::roles::RoleClaim;
use crate::domain::scope::ScopeSet;
use crate::domain::tokens::{Mint, TokenService};
use crate::error::{AppError, Result};

/// `grant_type=client_credentials` at the token endpoint.
pub async fn exchange(
    g: &Grants<'_>,
    presented: Result<Option<PresentedClient>, OAuthRefusal>,
    form: &TokenForm,
) -> Result<IssuedToken, OAuthRefusal> {
    let id_in_body_too = matches!(&presented, Ok(Some(p)) if p.id_in_body_too);
    let client = g
        .client_for(presented, GrantType::ClientCredentials)
        .await?;
    let scope = match form.scope.as_deref() {
        Some(raw) => ScopeSet::parse(raw)
            .ok()
            .filter(|s| client.scopes.contains_all(s))
            .ok_or_else(|| {
                OAuthRefusal::invalid_scope(
                    "The requested scope is unknown or not allowed for this client.",
                )
            })?,
        None => client.scopes.clone(),
    };
    // RFC 6749 §2.3: one authentication method per request; Basic plus a body `client_id` is
    // two.
    if id_in_body_too {
        return Err(OAuthRefusal::invalid_request("Invalid request."));
    }
    Ok(mint(g.tokens, &client, &scope).await?)
}

/// `POST /api/v0/login` with HTTP Basic: a system credential's id and secret buy a token with
/// all its scopes. Anything but a system credential, or a wrong secret, is the same
/// `Unauthenticated`.
pub async fn system_login(g: &Grants<'_>, id: &str, secret: &str) -> Result<IssuedToken> {
    let fail = || AppError::Unauthenticated("Invalid client credentials".into());
    let hasher = g.tokens.hasher();
    let client =
        match client::authenticate(g.db, g.caches, hasher, id, Some(secret), g.clock.now()).await {
            Ok(c) if c.kind == ClientKind::System => c,
            Ok(_) | Err(AppError::Unauthenticated(_)) => return Err(fail()),
            Err(e) => return Err(e),
        };
    mint(g.tokens, &client, &client.scopes).await
}

/// The one client-credentials mint: the client is its own subject; a system credential's token
/// carries its tenant and roles. In the client's format; records `token.issued`.
async fn mint(tokens: &TokenService, client: &Client, scope: &ScopeSet) -> Result<IssuedToken> {
    let system = client.kind == ClientKind::System;
    let mint = Mint {
        owner_id: &client.id,
        client_id: &client.id,
        scope: &scope.to_string(),
        tid: client.tenant_id.clone(),
        roles: system.then(|| client.roles.iter().map(RoleClaim::from).collect()),
        grant: GrantType::ClientCredentials.as_str(),
        ..Mint::default()
    };
    let (access_token, claims) = tokens
        .issue_access(mint, client.access_token_format)
        .await?;
    Ok(IssuedToken {
        access_token,
        expires_in: claims.exp - claims.iat,
        refresh_token: None,
        scope: claims.scope,
        issued_token_type: None,
        id_token: None,
    })
}
