//! Credential management: personal access tokens (`/api/v1/{tenant_id}/tokens/`, the shape of
//! seed 003), API keys and the personal token. Reading needs `read`; creating and deleting need
//! `admin`. Secrets appear only in creation responses.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::caller::Caller;
use super::views::*;
use crate::domain::credentials::{Credential, CredentialKind, NewApiKey, format_time};
use crate::http::error::ApiError;
use crate::state::AppState;

/// Pagination of list endpoints.
#[derive(Deserialize, IntoParams)]
pub struct Page {
    /// Items per page, 1 to 200 (default 50).
    #[serde(default)]
    limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    cursor: Option<String>,
}

/// Newest first; `cursor` is the id of the last item seen.
fn page<T>(
    items: &[Credential],
    p: &Page,
    show: impl Fn(&Credential) -> T,
) -> (Vec<T>, Option<String>) {
    let limit = p.limit.unwrap_or(50).clamp(1, 200);
    let start = p.cursor.as_deref().map_or(0, |c| {
        items
            .iter()
            .position(|i| i.id == c)
            .map_or(items.len(), |i| i + 1)
    });
    let slice: Vec<&Credential> = items.iter().skip(start).take(limit).collect();
    let next = if start + slice.len() < items.len() {
        slice.last().map(|c| c.id.clone())
    } else {
        None
    };
    (slice.into_iter().map(show).collect(), next)
}

/// Create a personal access token (`sk-`).
#[utoipa::path(post, path = "/api/v1/{tenant_id}/tokens/", tag = "Personal access tokens",
    params(("tenant_id" = String, Path, description = "A tenant id, or `active`")),
    request_body = NewPat,
    responses((status = 201, body = PatCreated), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 400, description = "The body is not valid JSON", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`", body = ErrorBody),
        (status = 429, description = "Too many requests with this credential: retry after `Retry-After` seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn pat_post(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<NewPat>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let issued = state
        .credentials
        .create_pat(
            &caller.principal,
            &path,
            body.name.as_deref().unwrap_or_default(),
            Some(body.expiry_date.as_deref().unwrap_or_default()),
        )
        .await?;
    let view = PatView::from(&issued.credential);
    Ok(HttpResponse::Created().json(PatCreated {
        id: view.id,
        name: view.name,
        expiry_date: view.expiry_date,
        token: issued.secret.expose().to_owned(),
    }))
}

/// List your personal access tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/{tenant_id}/tokens/", tag = "Personal access tokens",
    params(("tenant_id" = String, Path, description = "A tenant id, or `active`"), Page),
    responses((status = 200, body = PatList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 400, description = "A malformed query string", body = ErrorBody),
        (status = 429, description = "Too many requests with this credential: retry after `Retry-After` seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn pat_list(
    caller: Caller,
    path: web::Path<String>,
    q: web::Query<Page>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let items = state
        .credentials
        .list_own(
            &caller.principal,
            &path,
            CredentialKind::PersonalAccessToken,
        )
        .await?;
    let (data, next_cursor) = page(&items, &q, |c| PatView::from(c));
    Ok(HttpResponse::Ok().json(PatList { data, next_cursor }))
}

/// Revoke a personal access token, permanently and at once.
#[utoipa::path(delete, path = "/api/v1/{tenant_id}/tokens/{token_id}", tag = "Personal access tokens",
    params(("tenant_id" = String, Path, description = "A tenant id, or `active`"), ("token_id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, description = "Too many requests with this credential: retry after `Retry-After` seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn pat_delete(
    caller: Caller,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    revoke_one(
        &caller,
        &state,
        path.into_inner(),
        CredentialKind::PersonalAccessToken,
    )
    .await
}

/// Create an API key (`ck_live_` or `ck_test_`).
#[utoipa::path(post, path = "/api/v1/{tenant_id}/api-keys", tag = "API keys",
    params(("tenant_id" = String, Path, description = "A tenant id, or `active`")),
    request_body = NewApiKeyBody,
    responses((status = 201, body = ApiKeyCreated), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 400, description = "The body is not valid JSON", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`", body = ErrorBody),
        (status = 429, description = "Too many requests with this credential: retry after `Retry-After` seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn api_key_post(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<NewApiKeyBody>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let new = NewApiKey {
        name: b.name,
        permissions: b.permissions,
        environment: b.environment,
        expires_at: b.expires_at,
        allowed_ips: b.allowed_ips,
    };
    let issued = state
        .credentials
        .create_api_key(&caller.principal, &path, new)
        .await?;
    Ok(HttpResponse::Created().json(ApiKeyCreated {
        view: ApiKeyView::from(&issued.credential),
        key: issued.secret.expose().to_owned(),
    }))
}

/// List API keys (never the keys themselves).
#[utoipa::path(get, path = "/api/v1/{tenant_id}/api-keys", tag = "API keys",
    params(("tenant_id" = String, Path, description = "A tenant id, or `active`"), Page),
    responses((status = 200, body = ApiKeyList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 400, description = "A malformed query string", body = ErrorBody),
        (status = 429, description = "Too many requests with this credential: retry after `Retry-After` seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn api_key_list(
    caller: Caller,
    path: web::Path<String>,
    q: web::Query<Page>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let items = state
        .credentials
        .list_own(&caller.principal, &path, CredentialKind::ApiKey)
        .await?;
    let (data, next_cursor) = page(&items, &q, |c| ApiKeyView::from(c));
    Ok(HttpResponse::Ok().json(ApiKeyList { data, next_cursor }))
}

/// Revoke an API key at once.
#[utoipa::path(delete, path = "/api/v1/{tenant_id}/api-keys/{id}", tag = "API keys",
    params(("tenant_id" = String, Path, description = "A tenant id, or `active`"), ("id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, description = "Too many requests with this credential: retry after `Retry-After` seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn api_key_delete(
    caller: Caller,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    revoke_one(&caller, &state, path.into_inner(), CredentialKind::ApiKey).await
}

/// Create (or regenerate) your personal token; any previous one stops working.
#[utoipa::path(post, path = "/api/v1/{tenant_id}/personal-token", tag = "Personal token",
    params(("tenant_id" = String, Path, description = "A tenant id, or `active`")),
    responses((status = 201, body = PersonalTokenCreated), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, description = "Too many requests with this credential: retry after `Retry-After` seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn personal_token_post(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let issued = state
        .credentials
        .regenerate_personal_token(&caller.principal, &path)
        .await?;
    let expires_at = issued.credential.effective_expiry(None).map(format_time);
    Ok(HttpResponse::Created().json(PersonalTokenCreated {
        token: issued.secret.expose().to_owned(),
        expires_at,
    }))
}

/// Delete your personal token.
#[utoipa::path(delete, path = "/api/v1/{tenant_id}/personal-token", tag = "Personal token",
    params(("tenant_id" = String, Path, description = "A tenant id, or `active`")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, description = "Too many requests with this credential: retry after `Retry-After` seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn personal_token_delete(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    state
        .credentials
        .revoke_own(
            &caller.principal,
            &path,
            CredentialKind::PersonalToken,
            None,
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Revokes one credential of `kind` by `(tenant, id)`: 204, or 404 when nothing live matched.
async fn revoke_one(
    caller: &Caller,
    state: &AppState,
    (tenant_raw, id): (String, String),
    kind: CredentialKind,
) -> Result<HttpResponse, ApiError> {
    state
        .credentials
        .revoke_own(&caller.principal, &tenant_raw, kind, Some(&id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
