//! RFC 8693 token exchange: a long-lived credential (API key, `sk-` token, personal token,
//! account secret key) as `subject_token` buys a short-lived access token with at most its
//! permissions, decided by `domain::exchange` and the policy (the owner's live role,
//! attenuation). The credential authenticates the request; a client that sends credentials
//! anyway must send valid ones.

use std::net::IpAddr;

use super::{Grants, IssuedToken, OAuthRefusal, PresentedClient, TokenForm};
use crate::domain::exchange;
use crate::domain::scope::ScopeSet;
use crate::error::AppError;

/// RFC 8693 §3: the token type of an access token, the only one issued.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
/// Portcullis' token type for a long-lived credential presented as the subject.
const CREDENTIAL_TOKEN_TYPE: &str = "urn:portcullis:params:oauth:token-type:credential";

/// Exchanges a credential for an access token.
pub async fn exchange(
    g: &Grants<'_>,
    presented: Result<Option<PresentedClient>, OAuthRefusal>,
    form: &TokenForm,
    ip: Option<IpAddr>,
) -> Result<IssuedToken, OAuthRefusal> {
    if !matches!(presented, Ok(None)) {
        g.authenticate_client(presented).await?;
    }
    let subject = form
        .subject_token
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| OAuthRefusal::invalid_request("subject_token is required."))?;
    match form.subject_token_type.as_deref() {
        Some(ACCESS_TOKEN_TYPE | CREDENTIAL_TOKEN_TYPE) => {}
        Some(_) => {
            return Err(OAuthRefusal::invalid_request(
                "Unsupported subject_token_type.",
            ));
        }
        None => {
            return Err(OAuthRefusal::invalid_request(
                "subject_token_type is required.",
            ));
        }
    }
    let scope = match form.scope.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(raw) => {
            Some(ScopeSet::parse(raw).map_err(|_| OAuthRefusal::invalid_scope("Unknown scope."))?)
        }
        None => None,
    };
    // Records `token.issued` (grant `token_exchange`).
    let outcome = exchange::exchange(
        g.credentials,
        g.tokens,
        subject,
        ip,
        scope.as_ref(),
        None,
        "token_exchange",
    )
    .await;
    let (access_token, claims) = match outcome {
        Ok(Ok(pair)) => pair,
        Ok(Err(_)) => {
            return Err(OAuthRefusal::invalid_grant(
                "The subject_token is invalid, expired, revoked or not allowed from here.",
            ));
        }
        Err(AppError::Validation { .. }) => {
            return Err(OAuthRefusal::invalid_scope(
                "The requested scope exceeds the credential's permissions.",
            ));
        }
        Err(e) => return Err(OAuthRefusal::Failed(e)),
    };
    Ok(IssuedToken {
        access_token,
        expires_in: claims.exp - claims.iat,
        refresh_token: None,
        scope: claims.scope,
        issued_token_type: Some(ACCESS_TOKEN_TYPE),
        id_token: None,
    })
}
