//! `POST /oauth/revoke` (RFC 7009) and `POST /oauth/introspect` (RFC 7662). Both authenticate
//! the client first; revocation answers 200 whatever the token was (§2.2), introspection answers
//! `{"active": false}` for anything not active or not the client's to see
//! (`domain::introspection`). Session tokens are revoked by presenting them with
//! `client_id=portcullis-session` and no secret, as a public client would.

use actix_web::http::header::{CACHE_CONTROL, PRAGMA};
use actix_web::{HttpResponse, web};
use oxide_auth_actix::{OAuthRequest, WebError};
use serde_json::json;

use super::client_auth::{self, param};
use super::error::OAuthError;
use crate::domain::credentials::Credential;
use crate::domain::introspection::{self, Introspection};
use crate::domain::scope::ScopeSet;
use crate::domain::tokens::ActiveToken;
use crate::domain::user::User;
use crate::state::AppState;

fn token_param(
    req: &Result<OAuthRequest, WebError>,
) -> Result<(&OAuthRequest, String), OAuthError> {
    let req = req.as_ref().map_err(|_| {
        OAuthError::bad(
            "invalid_request",
            "Send one Authorization header and a form body.",
        )
    })?;
    let token = param(req, "token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| OAuthError::bad("invalid_request", "token is required."))?;
    Ok((req, token))
}

fn no_store(mut res: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    res.insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((PRAGMA, "no-cache"));
    res
}

/// `POST /oauth/revoke`
pub async fn revoke_post(
    req: Result<OAuthRequest, WebError>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let (req, token) = token_param(&req)?;
    if client_auth::presents_session_client(req) {
        // RFC 7009 §2.1: a public client is identified, not authenticated; holding the token
        // is the proof. Only session tokens are affected.
        state.session_tokens.revoke_presented(&token).await?;
    } else {
        let client = client_auth::authenticate(&state, req).await?;
        state.tokens.revoke(&client.id, &token).await?;
    }
    Ok(no_store(HttpResponse::Ok()).finish())
}

/// `POST /oauth/introspect`: `domain::introspection` decides what the client may see.
pub async fn introspect_post(
    req: Result<OAuthRequest, WebError>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let (req, token) = token_param(&req)?;
    let client = client_auth::authenticate(&state, req).await?;
    let body = match introspection::introspect(&state.tokens, &state.credentials, &client, &token)
        .await?
    {
        Introspection::Refused => return Err(OAuthError::invalid_client(false)),
        Introspection::Inactive => json!({"active": false}),
        Introspection::Token(t) => token_body(t, state.tokens.issuer()),
        Introspection::Credential(c, scopes) => credential_body(&c, &scopes, state.tokens.issuer()),
    };
    Ok(no_store(HttpResponse::Ok()).json(body))
}

/// RFC 7662 §2.2 for an access or refresh token.
fn token_body(t: ActiveToken, issuer: &str) -> serde_json::Value {
    let mut body = json!({
        "active": true,
        "scope": t.scope,
        "client_id": t.client_id,
        "sub": t.sub,
        "exp": t.exp,
        "token_type": t.token_type,
        "iss": issuer,
    });
    if let Some(iat) = t.iat {
        body["iat"] = json!(iat);
    }
    if let Some(env) = t.env {
        body["env"] = json!(env);
    }
    if let Some(roles) = t.roles {
        body["roles"] = json!(roles);
    }
    if let Some(full) = t.full_access {
        body["full_access"] = json!(full);
    }
    if let Some(amr) = t.amr {
        body["amr"] = json!(amr);
    }
    if let Some(acr) = t.acr {
        body["acr"] = json!(acr);
    }
    if let Some(jti) = t.jti {
        body["jti"] = json!(jti);
        body["aud"] = json!(issuer);
    }
    body
}

/// RFC 7662 §2.2 for a long-lived credential.
fn credential_body(c: &Credential, scopes: &ScopeSet, issuer: &str) -> serde_json::Value {
    let mut body = json!({
        "active": true,
        "scope": scopes.to_string(),
        "client_id": c.id,
        "token_type": c.kind.as_str(),
        "iat": c.created_at,
        "iss": issuer,
    });
    if let Some(user) = &c.user_id {
        body["sub"] = json!(User::public_id_of(user));
    }
    if let Some(env) = c.environment {
        body["env"] = json!(env.as_str());
    }
    if let Some(exp) = c.effective_expiry(None) {
        body["exp"] = json!(exp);
    }
    body
}
