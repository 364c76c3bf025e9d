//! `POST /oauth/token`: reads the form and the client credentials off the wire, hands them to
//! `domain::grants` (which picks the grant, authenticates, checks, mints and records), and
//! renders RFC 6749 §5.1's answer (RFC 8693 §2.2.1's for token exchange). Refusals become bytes
//! in `error`.

use actix_web::http::header::{CACHE_CONTROL, PRAGMA};
use actix_web::{HttpRequest, HttpResponse, web};
use oxide_auth_actix::{OAuthRequest, WebError};
use serde::Serialize;

use super::client_auth::{self, param};
use super::error::OAuthError;
use crate::domain::grants::{IssuedToken, OAuthRefusal, TokenForm, TokenRequest};
use crate::state::AppState;

/// RFC 6749 §5.1 successful response.
#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
    scope: &'a str,
    /// OpenID Connect Core §3.1.3.3.
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<&'a str>,
}

/// `POST /oauth/token`
pub async fn token_post(
    http: HttpRequest,
    req: Result<OAuthRequest, WebError>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let request = TokenRequest {
        ip: crate::http::meta::client_ip(&http),
        client: req.as_ref().map_or(Ok(None), client_auth::presented),
        form: req.as_ref().map_err(|_| unreadable()).and_then(form),
    };
    let issued = state.grants().token(request).await?;
    Ok(render(&issued))
}

fn unreadable() -> OAuthRefusal {
    OAuthRefusal::invalid_request("Send one Authorization header and a form body.")
}

fn form(req: &OAuthRequest) -> Result<TokenForm, OAuthRefusal> {
    if req.body().is_none() {
        return Err(OAuthRefusal::invalid_request(
            "The request body must be application/x-www-form-urlencoded.",
        ));
    }
    Ok(TokenForm {
        grant_type: param(req, "grant_type"),
        code: param(req, "code"),
        redirect_uri: param(req, "redirect_uri"),
        code_verifier: param(req, "code_verifier"),
        refresh_token: param(req, "refresh_token"),
        scope: param(req, "scope"),
        subject_token: param(req, "subject_token"),
        subject_token_type: param(req, "subject_token_type"),
    })
}

/// The token response, never cached (RFC 6749 §5.1).
fn render(t: &IssuedToken) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    res.insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((PRAGMA, "no-cache"));
    match t.issued_token_type {
        Some(issued_token_type) => res.json(serde_json::json!({
            "access_token": t.access_token,
            "issued_token_type": issued_token_type,
            "token_type": "Bearer",
            "expires_in": t.expires_in,
            "scope": t.scope,
        })),
        None => res.json(TokenResponse {
            access_token: &t.access_token,
            token_type: "Bearer",
            expires_in: t.expires_in,
            refresh_token: t.refresh_token.as_ref().map(|r| r.expose()),
            scope: &t.scope,
            id_token: t.id_token.as_deref(),
        }),
    }
}
