//! The seed-shaped exchange routes: `POST /api/v0/login` (personal token → 1-hour token, seed
//! 000), `POST /auth/token` (email + account secret key → 7-day token, seed 004) and the secret
//! key's own management routes. All are thin routes over `domain::exchange`, and over
//! `domain::grants::client_credentials` for system credentials (the same mint as the token
//! endpoint's); failures answer in the REST error shape.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::caller::{Caller, bearer_value, client_ip, refusal_error};
use super::views::*;
use crate::domain::credentials::{CredentialKind, Refusal};
use crate::domain::exchange;
use crate::domain::grants::client_credentials;
use crate::error::AppError;
use crate::http::error::ApiError;
use crate::state::AppState;

/// Lifetime of `/auth/token` tokens (seed 004).
const SECRET_KEY_TOKEN_TTL: i64 = 7 * 86_400;

fn unauthenticated(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "authentication_failed", message)
}

/// Exchange your personal token (`Authorization: Bearer pt_…`), or a system credential (HTTP
/// Basic `client_id:client_secret` with `{"grant_type":"client_credentials"}`), for a 1-hour
/// access token.
#[utoipa::path(post, path = "/api/v0/login", tag = "Login",
    request_body(content = Option<ClientCredentialsBody>, description = "For system credentials: `{\"grant_type\":\"client_credentials\"}`"),
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("system_credential" = [])))]
pub async fn login_v0_post(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if header.len() > 6 && header[..6].eq_ignore_ascii_case("basic ") {
        require_client_credentials_grant(&body)?;
        let (id, secret) = crate::http::oauth::client_auth::decode_basic(&header[6..])
            .ok_or_else(|| unauthenticated("Invalid client credentials"))?;
        let issued = client_credentials::system_login(&state.grants(), &id, &secret).await?;
        return Ok(login_response(issued.access_token, issued.expires_in));
    }
    let token = bearer_value(&req).ok_or_else(|| unauthenticated("Send a personal token as `Authorization: Bearer <token>`, or system credentials with HTTP Basic"))?;
    let (access, _) =
        exchange::personal_token_login(&state.credentials, &state.tokens, &token, client_ip(&req))
            .await?
            .map_err(refusal_error)?;
    Ok(login_response(access, state.tokens.access_ttl()))
}

fn login_response(access_token: String, expires_in: i64) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(LoginResponse {
            access_token,
            token_type: "Bearer".into(),
            expires_in,
        })
}

/// An empty body is accepted; a body must say `client_credentials`.
fn require_client_credentials_grant(body: &[u8]) -> Result<(), ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let parsed: Result<ClientCredentialsBody, _> = serde_json::from_slice(body);
    match parsed {
        Ok(b) if b.grant_type.as_deref() == Some("client_credentials") => Ok(()),
        _ => Err(AppError::validation(
            "grant_type",
            "Send {\"grant_type\":\"client_credentials\"}.",
        )
        .into()),
    }
}

/// Exchange your email and account secret key for a 7-day bearer token.
#[utoipa::path(post, path = "/auth/token", tag = "Login", request_body = SecretKeyLogin,
    responses((status = 200, body = AuthTokenResponse), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 400, description = "The body is not valid JSON", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`", body = ErrorBody)))]
pub async fn auth_token_post(
    req: HttpRequest,
    body: web::Json<SecretKeyLogin>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let secret = body
        .secret_key
        .as_ref()
        .ok_or_else(|| unauthenticated("Invalid email or secret key"))?;
    let c = state
        .credentials
        .verify_secret_key_for(&body.email, secret.expose(), client_ip(&req))
        .await
        .map_err(|r| match r {
            Refusal::Failed(e) => ApiError::from(e),
            _ => unauthenticated("Invalid email or secret key"),
        })?;
    let (token, _) = exchange::token_for(
        &state.credentials,
        &state.tokens,
        &c,
        client_ip(&req),
        None,
        Some(SECRET_KEY_TOKEN_TTL),
        "secret_key",
    )
    .await?
    .map_err(refusal_error)?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(AuthTokenResponse { token }))
}

/// Generate your account secret key (shown once; 409 if one exists).
#[utoipa::path(put, path = "/user/generate_secret_key", tag = "Account secret key",
    responses((status = 200, body = SecretKeyResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 429, description = "Too many requests with this credential: retry after `Retry-After` seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn generate_secret_key_put(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let issued = state
        .credentials
        .generate_secret_key(&caller.principal, "active")
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(SecretKeyResponse {
            secret_key: issued.secret.expose().to_owned(),
        }))
}

/// Delete your account secret key; tokens made from it stop working.
#[utoipa::path(delete, path = "/user/delete_secret_key", tag = "Account secret key",
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, description = "Too many requests with this credential: retry after `Retry-After` seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_secret_key_delete(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    state
        .credentials
        .revoke_own(&caller.principal, "active", CredentialKind::SecretKey, None)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
