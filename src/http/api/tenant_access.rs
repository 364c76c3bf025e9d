//! What a caller may do in a tenant (`GET /api/v1/{tenant_id}/access`), and the tenant
//! administrators' view of every member's credentials: list them and revoke any of them.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::caller::Caller;
use super::views::ErrorBody;
use crate::domain::credentials::{Credential, format_time};
use crate::domain::user::User;
use crate::http::error::ApiError;
use crate::state::AppState;

/// The caller's standing in a tenant.
#[derive(Serialize, ToSchema)]
pub struct AccessView {
    /// The tenant's id.
    pub tenant_id: String,
    /// The caller's live role: `admin`, `editor` or `viewer`.
    pub role: String,
    /// What the caller's credential may do here now (its grant narrowed to the role).
    pub scopes: Vec<String>,
    /// The actions the policy allows: `read`, `write`, `delete`, `manage_own_credentials`,
    /// `manage_member_credentials`, `manage_members`, `manage_system_credentials`.
    pub actions: Vec<String>,
}

/// What you may do in a tenant.
#[utoipa::path(get, path = "/api/v1/{tenant_id}/access", tag = "Tenants",
    params(("tenant_id" = String, Path, description = "A tenant id, or `active`")),
    responses((status = 200, body = AccessView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, description = "Too many requests with this credential: retry after `Retry-After` seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn access_get(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let access = state
        .ctx
        .policy()
        .standing(&caller.principal, &path, None)
        .await?;
    Ok(HttpResponse::Ok().json(AccessView {
        tenant_id: access.tenant.id.clone(),
        role: access.role.as_str().to_owned(),
        scopes: access.principal.scopes.iter().map(str::to_owned).collect(),
        actions: access
            .allowed_actions()
            .iter()
            .map(|a| a.as_str().to_owned())
            .collect(),
    }))
}

/// A member's credential as its tenant's administrators see it (never the secret).
#[derive(Serialize, ToSchema)]
pub struct MemberCredentialView {
    /// Credential id.
    pub id: String,
    /// `api_key`, `personal_access_token`, `personal_token` or `secret_key`.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Public prefix.
    pub prefix: String,
    /// The owner's public id (`usr_…`).
    pub owner: Option<String>,
    /// API keys' permissions (other kinds act as their owner).
    pub permissions: Vec<String>,
    /// Expiry, RFC 3339.
    pub expires_at: Option<String>,
    /// Creation time, RFC 3339.
    pub created_at: String,
    /// Last use, RFC 3339.
    pub last_used_at: Option<String>,
}

impl From<&Credential> for MemberCredentialView {
    fn from(c: &Credential) -> Self {
        Self {
            id: c.id.clone(),
            kind: c.kind.as_str().to_owned(),
            name: c.name.clone(),
            prefix: c.prefix.clone(),
            owner: c.user_id.as_deref().map(User::public_id_of),
            permissions: c.permissions.iter().map(str::to_owned).collect(),
            expires_at: c.latest_expiry().map(format_time),
            created_at: format_time(c.created_at),
            last_used_at: c.last_used_at.map(format_time),
        }
    }
}

/// Every live credential of a tenant's members.
#[derive(Serialize, ToSchema)]
pub struct MemberCredentialList {
    /// Newest first.
    pub data: Vec<MemberCredentialView>,
}

/// List every member's credentials in a tenant (its administrators).
#[utoipa::path(get, path = "/api/v1/{tenant_id}/credentials", tag = "Tenants",
    params(("tenant_id" = String, Path, description = "A tenant id, or `active`")),
    responses((status = 200, body = MemberCredentialList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, description = "Too many requests with this credential: retry after `Retry-After` seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn credentials_get(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (_, list) = state
        .credentials
        .list_tenant(&caller.principal, &path)
        .await?;
    Ok(HttpResponse::Ok().json(MemberCredentialList {
        data: list.iter().map(MemberCredentialView::from).collect(),
    }))
}

/// Revoke any member's credential in a tenant (its administrators).
#[utoipa::path(delete, path = "/api/v1/{tenant_id}/credentials/{id}", tag = "Tenants",
    params(("tenant_id" = String, Path, description = "A tenant id, or `active`"), ("id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, description = "Too many requests with this credential: retry after `Retry-After` seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn credential_delete(
    caller: Caller,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (tenant, id) = path.into_inner();
    state
        .credentials
        .revoke_in_tenant(&caller.principal, &tenant, &id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
