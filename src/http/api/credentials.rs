//! Credential management: personal access tokens (`/api/v1/{tenant_id}/tokens/`, the shape of
//! seed 003), API keys and the personal token. Reading needs `read`; creating and deleting need
//! `admin`. Secrets appear only in creation responses.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::caller::Caller;
use crate::domain::credentials::{Credential, CredentialKind, NewApiKey, format_time};
use crate::domain::tenant;
use crate::http::error::ApiError;
use crate::state::AppState;

/// Body of `POST /api/v1/{tenant_id}/tokens/`.
#[derive(Deserialize)]
pub struct NewPat {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    expiry_date: Option<String>,
}

/// Pagination of list endpoints.
#[derive(Deserialize)]
pub struct Page {
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    cursor: Option<String>,
}

/// `{"data":[...], "next_cursor": ...}`: newest first; `cursor` is the id of the last item seen.
fn page(items: Vec<Credential>, p: &Page, show: impl Fn(&Credential) -> Value) -> Value {
    let limit = p.limit.unwrap_or(50).clamp(1, 200);
    let start = p.cursor.as_deref().map_or(0, |c| {
        items
            .iter()
            .position(|i| i.id == c)
            .map_or(items.len(), |i| i + 1)
    });
    let slice: Vec<&Credential> = items.iter().skip(start).take(limit).collect();
    let next = (start + slice.len() < items.len())
        .then(|| slice.last().map(|c| c.id.clone()))
        .flatten();
    json!({"data": slice.into_iter().map(show).collect::<Vec<_>>(), "next_cursor": next})
}

fn time_or_null(at: Option<i64>) -> Value {
    at.map_or(Value::Null, |t| json!(format_time(t)))
}

fn pat_json(c: &Credential) -> Value {
    json!({"id": c.id, "name": c.name, "expiry_date": time_or_null(c.expires_at)})
}

/// `POST /api/v1/{tenant_id}/tokens/`
pub async fn pat_post(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<NewPat>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.principal.require("admin")?;
    let (user, tenant) = tenant::resolve_for(&state.db, &caller.principal, &path).await?;
    let issued = state
        .credentials
        .create_pat(
            &user,
            &tenant,
            body.name.as_deref().unwrap_or_default(),
            body.expiry_date.as_deref().unwrap_or_default(),
        )
        .await?;
    let mut out = pat_json(&issued.credential);
    out["token"] = json!(issued.secret.expose());
    Ok(HttpResponse::Created().json(out))
}

/// `GET /api/v1/{tenant_id}/tokens/`
pub async fn pat_list(
    caller: Caller,
    path: web::Path<String>,
    q: web::Query<Page>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.principal.require("read")?;
    let (user, tenant) = tenant::resolve_for(&state.db, &caller.principal, &path).await?;
    let items = state
        .credentials
        .list(
            &user.id,
            Some(&tenant.id),
            CredentialKind::PersonalAccessToken,
        )
        .await?;
    Ok(HttpResponse::Ok().json(page(items, &q, pat_json)))
}

/// `DELETE /api/v1/{tenant_id}/tokens/{token_id}`
pub async fn pat_delete(
    caller: Caller,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.principal.require("admin")?;
    let (tenant_raw, id) = path.into_inner();
    let (user, tenant) = tenant::resolve_for(&state.db, &caller.principal, &tenant_raw).await?;
    state
        .credentials
        .revoke(
            &user.id,
            CredentialKind::PersonalAccessToken,
            Some(&id),
            Some(&tenant.id),
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

fn api_key_json(c: &Credential) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "prefix": c.prefix,
        "permissions": c.permissions.iter().collect::<Vec<_>>(),
        "environment": c.environment.map(|e| e.as_str()),
        "expires_at": time_or_null(c.expires_at),
        "allowed_ips": c.allowed_ips.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "created_at": format_time(c.created_at),
        "last_used_at": time_or_null(c.last_used_at),
        "last_used_ip": c.last_used_ip,
    })
}

/// `POST /api/v1/{tenant_id}/api-keys`
pub async fn api_key_post(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<NewApiKey>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.principal.require("admin")?;
    let (user, tenant) = tenant::resolve_for(&state.db, &caller.principal, &path).await?;
    let issued = state
        .credentials
        .create_api_key(&user, &tenant, body.into_inner())
        .await?;
    let mut out = api_key_json(&issued.credential);
    out["key"] = json!(issued.secret.expose());
    Ok(HttpResponse::Created().json(out))
}

/// `GET /api/v1/{tenant_id}/api-keys`
pub async fn api_key_list(
    caller: Caller,
    path: web::Path<String>,
    q: web::Query<Page>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.principal.require("read")?;
    let (user, tenant) = tenant::resolve_for(&state.db, &caller.principal, &path).await?;
    let items = state
        .credentials
        .list(&user.id, Some(&tenant.id), CredentialKind::ApiKey)
        .await?;
    Ok(HttpResponse::Ok().json(page(items, &q, api_key_json)))
}

/// `DELETE /api/v1/{tenant_id}/api-keys/{id}`
pub async fn api_key_delete(
    caller: Caller,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.principal.require("admin")?;
    let (tenant_raw, id) = path.into_inner();
    let (user, tenant) = tenant::resolve_for(&state.db, &caller.principal, &tenant_raw).await?;
    state
        .credentials
        .revoke(
            &user.id,
            CredentialKind::ApiKey,
            Some(&id),
            Some(&tenant.id),
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/v1/{tenant_id}/personal-token`: creates or regenerates it.
pub async fn personal_token_post(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.principal.require("admin")?;
    let (user, tenant) = tenant::resolve_for(&state.db, &caller.principal, &path).await?;
    let issued = state
        .credentials
        .regenerate_personal_token(&user, &tenant)
        .await?;
    let expires = issued.credential.effective_expiry(None);
    Ok(HttpResponse::Created()
        .json(json!({"token": issued.secret.expose(), "expires_at": time_or_null(expires)})))
}

/// `DELETE /api/v1/{tenant_id}/personal-token`
pub async fn personal_token_delete(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.principal.require("admin")?;
    let (user, _) = tenant::resolve_for(&state.db, &caller.principal, &path).await?;
    state
        .credentials
        .revoke(&user.id, CredentialKind::PersonalToken, None, None)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
