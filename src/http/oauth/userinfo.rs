//! `GET` and `POST /oauth/userinfo` (OpenID Connect Core §5.3): reads the bearer token (the
//! Authorization header, or RFC 6750 §2.2's `access_token` form field on POST), asks
//! `domain::oidc::userinfo`, and renders the claims or an RFC 6750 §3 challenge. Which claims a
//! token may see is decided in the domain, never here.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, PRAGMA};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::domain::oidc::{self, UserinfoRefusal};
use crate::http::api::caller::bearer_value;
use crate::http::error::ApiError;
use crate::state::AppState;

/// `GET /oauth/userinfo`
pub async fn userinfo_get(
    http: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    respond(&state, bearer_value(&http)).await
}

/// `POST /oauth/userinfo`: the token in the header or, failing that, in the form body.
pub async fn userinfo_post(
    http: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let token = bearer_value(&http).or_else(|| {
        url::form_urlencoded::parse(&body)
            .find(|(k, _)| k == "access_token")
            .map(|(_, v)| v.into_owned())
    });
    respond(&state, token).await
}

async fn respond(state: &AppState, token: Option<String>) -> Result<HttpResponse, ApiError> {
    let claims = oidc::userinfo(&state.ctx, &state.tokens, token.as_deref())
        .await
        .map_err(refused)?;
    // Personal data: never cached (Core §5.3.2 responses carry the person's claims).
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((PRAGMA, "no-cache"))
        .json(claims))
}

fn refused(r: UserinfoRefusal) -> ApiError {
    match r {
        UserinfoRefusal::NoToken => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "authentication_failed",
            "Send an access token.",
        )
        .bearer_challenge(None, None),
        UserinfoRefusal::InvalidToken => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "authentication_failed",
            "The access token is missing, invalid, expired or revoked.",
        )
        .bearer_challenge(Some("invalid_token"), None),
        UserinfoRefusal::InsufficientScope => ApiError::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "The access token was not granted the openid scope.",
        )
        .bearer_challenge(Some("insufficient_scope"), Some(oidc::OPENID)),
        UserinfoRefusal::Failed(e) => e.into(),
    }
}
