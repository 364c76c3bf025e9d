//! The refresh token grant (RFC 6749 §6): the client is authenticated, the refresh token must be
//! live and this client's, the scope may narrow but never widen; the token is rotated (a reused
//! one revokes its family, see `domain::tokens`) and a new access token minted in its family.
//! With `openid` in the new token's scope, a new ID token comes too (OpenID Connect Core §12.2:
//! same `sub`, and the original `auth_time`, `sid`, `amr` and `acr`), signed as the client asks
//! today.

use super::authorization_code::canonical;
use super::{Grants, IssuedToken, OAuthRefusal, PresentedClient, TokenForm, required};
use crate::domain::client::GrantType;
use crate::domain::oidc::{self, IdTokenFor, is_openid};
use crate::domain::scope::ScopeSet;
use crate::domain::tokens::Mint;
use crate::error::AppError;

fn bad_token() -> OAuthRefusal {
    OAuthRefusal::invalid_grant("The refresh token is invalid, expired or revoked.")
}

/// Exchanges a refresh token for a new access token and a new refresh token.
pub async fn exchange(
    g: &Grants<'_>,
    presented: Result<Option<PresentedClient>, OAuthRefusal>,
    form: &TokenForm,
) -> Result<IssuedToken, OAuthRefusal> {
    let client = g.client_for(presented, GrantType::RefreshToken).await?;
    let token = required(&form.refresh_token, "refresh_token")?;

    // Looked up before ownership is checked, so that reuse revokes the family whoever
    // presents it.
    let rec = g
        .tokens
        .recover_refresh(token)
        .await?
        .ok_or_else(bad_token)?;
    if rec.client_id != client.id {
        // §5.2: a refresh token issued to another client is `invalid_grant`, however the
        // (successfully authenticated) client sent its credentials.
        return Err(bad_token());
    }
    // A disabled account's grants are suspended, not revoked: refused until it is enabled.
    if !g.credentials.policy().account_active(&rec.user_id).await? {
        return Err(OAuthRefusal::invalid_grant(
            "The account this grant belongs to is disabled.",
        ));
    }
    let scope = narrowed(&rec.scope, form.scope.as_deref())?;
    let (rec, refresh_token) = g.tokens.rotate_refresh(token, rec).await?.ok_or_else(|| {
        OAuthRefusal::invalid_grant(
            "The refresh token was already used; its grant has been revoked.",
        )
    })?;

    // Records `token.issued`; in the format the client chooses now. The access token may be
    // narrowed; the new refresh token, stored with the rotation, keeps the grant's full scope
    // (§6).
    let mint = Mint {
        owner_id: &rec.user_id,
        client_id: &rec.client_id,
        scope: &scope,
        gid: Some(rec.family_id.clone()),
        grant: "refresh_token",
        methods: Some(rec.methods.clone().unwrap_or_default()),
        ..Mint::default()
    };
    let (access_token, _) = g
        .tokens
        .issue_access(mint, client.access_token_format)
        .await?;
    let id_token = if is_openid(&scope) {
        let what = IdTokenFor {
            user_id: &rec.user_id,
            client_id: &rec.client_id,
            scope: &scope,
            access_token: &access_token,
            auth_time: rec.auth_time,
            nonce: None,
            sid: rec.sid.clone(),
            methods: rec.methods.clone().unwrap_or_default(),
            alg: client.oidc.id_token_alg,
        };
        Some(oidc::id_token(g, what).await?)
    } else {
        None
    };
    Ok(IssuedToken {
        access_token,
        expires_in: g.tokens.access_ttl(),
        refresh_token: Some(refresh_token),
        scope: canonical(&scope),
        issued_token_type: None,
        id_token,
    })
}

/// §6: the requested scope, which must not include any scope not originally granted; the
/// granted scope when none is requested.
fn narrowed(granted: &str, requested: Option<&str>) -> Result<String, OAuthRefusal> {
    let Some(requested) = requested else {
        return Ok(granted.to_owned());
    };
    let exceeds = || OAuthRefusal::invalid_scope("The requested scope exceeds what was granted.");
    let granted = ScopeSet::parse(granted).map_err(AppError::internal)?;
    let requested = ScopeSet::parse(requested).map_err(|_| exceeds())?;
    if !granted.contains_all(&requested) {
        return Err(exceeds());
    }
    Ok(requested.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_may_narrow_the_scope_but_never_widen_it() {
        assert_eq!(narrowed("read write", None).unwrap(), "read write");
        assert_eq!(narrowed("read write", Some("read")).unwrap(), "read");
        let wide = narrowed("read", Some("read write")).unwrap_err();
        assert_eq!(wide.code(), "invalid_scope");
        let unknown = narrowed("read", Some("nonsense")).unwrap_err();
        assert_eq!(unknown.code(), "invalid_scope");
    }
}
