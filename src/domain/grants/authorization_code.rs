//! The authorization code grant's token request (RFC 6749 §4.1.3, with PKCE, RFC 7636 §4.5):
//! the client is authenticated, the code is redeemed once and only when it is this client's,
//! for this redirect URI, with the right verifier (a mismatch leaves it unspent); tokens join
//! the code's family, so a replayed code revokes them. With `openid` granted, an ID token
//! (OpenID Connect Core §3.1.3.3) comes too.

use url::Url;

use super::{Grants, IssuedToken, OAuthRefusal, PresentedClient, TokenForm, required};
use crate::domain::client::{ClientKind, GrantType};
use crate::domain::oidc::{self, IdTokenFor, is_openid};
use crate::domain::oidc_request::grants_refresh;
use crate::domain::roles::RoleClaim;
use crate::domain::scope::ScopeSet;
use crate::domain::tokens::Mint;

fn bad_code() -> OAuthRefusal {
    OAuthRefusal::invalid_grant(
        "The authorization code is invalid, expired, already used, or does not match the \
         redirect_uri or code_verifier.",
    )
}

/// Exchanges an authorization code for an access token, and a refresh token when the client
/// may refresh (and, on an OpenID request, asked for `offline_access`).
pub async fn exchange(
    g: &Grants<'_>,
    presented: Result<Option<PresentedClient>, OAuthRefusal>,
    form: &TokenForm,
) -> Result<IssuedToken, OAuthRefusal> {
    let id_in_body_too = matches!(&presented, Ok(Some(p)) if p.id_in_body_too);
    let client = g
        .client_for(presented, GrantType::AuthorizationCode)
        .await?;
    let code = required(&form.code, "code")?;
    let redirect_uri = required(&form.redirect_uri, "redirect_uri")?;
    // Refused before the code is spent: a client authenticating with Basic must not name
    // itself again in the body (RFC 6749 §2.3: one method per request), and the redirect URI
    // must at least be a URI.
    let requested_uri = Url::parse(redirect_uri).map_err(|_| bad_code())?;
    if id_in_body_too {
        return Err(bad_code());
    }

    // Single use, and spent only by a redemption that matches in every respect: another
    // client, another redirect URI or a wrong verifier leaves the code for its owner.
    let verifier = form.code_verifier.as_deref();
    let unspent = g.tokens.unspent_code(code).await?;
    if let Some(rec) = &unspent {
        let matches = rec.client_id == client.id
            && Url::parse(&rec.redirect_uri).ok().as_ref() == Some(&requested_uri)
            && rec.pkce_satisfied(verifier);
        if !matches {
            return Err(bad_code());
        }
        // The person may have been disabled since they approved: no tokens for them now.
        if !g.credentials.policy().account_active(&rec.user_id).await? {
            return Err(OAuthRefusal::invalid_grant(
                "The account this code was issued for is disabled.",
            ));
        }
    }
    // OpenID requests get a refresh token only with `offline_access` (Core §11). It is stored
    // with the code's spending, in one write.
    let refresh_for = unspent
        .as_ref()
        .filter(|rec| client.allows(GrantType::RefreshToken) && grants_refresh(&rec.scope));
    let (rec, refresh_token) = g
        .tokens
        .spend_code(code, refresh_for)
        .await?
        .ok_or_else(bad_code)?;

    // Records `token.issued`; a JWT or an opaque token, as the client chose.
    let system = client.kind == ClientKind::System;
    let mint = Mint {
        owner_id: &rec.user_id,
        client_id: &rec.client_id,
        scope: &rec.scope,
        gid: Some(rec.family_id.clone()),
        tid: client.tenant_id.clone(),
        roles: system.then(|| client.roles.iter().map(RoleClaim::from).collect()),
        grant: "authorization_code",
        methods: Some(rec.methods().unwrap_or_default()),
        ..Mint::default()
    };
    let (access_token, _) = g
        .tokens
        .issue_access(mint, client.access_token_format)
        .await?;
    let id_token = if is_openid(&rec.scope) {
        let what = IdTokenFor {
            user_id: &rec.user_id,
            client_id: &rec.client_id,
            scope: &rec.scope,
            access_token: &access_token,
            auth_time: rec.auth_time(),
            nonce: rec.nonce(),
            sid: rec.sid(),
            methods: rec.methods().unwrap_or_default(),
            alg: client.oidc.id_token_alg,
        };
        Some(oidc::id_token(g, what).await?)
    } else {
        None
    };
    Ok(IssuedToken {
        access_token,
        expires_in: g.tokens.access_ttl(),
        refresh_token,
        scope: canonical(&rec.scope),
        issued_token_type: None,
        id_token,
    })
}

/// Scopes in canonical (sorted) order, whatever order they were stored in.
pub(super) fn canonical(scope: &str) -> String {
    ScopeSet::parse(scope)
        .map(|s| s.to_string())
        .unwrap_or_default()
}
