//! `/api/v1/auth-management/clients` (seed 001): a tenant administrator's CRUD of system
//! credentials. The secret appears only in the creation response; an update that leaves no roles
//! says plainly that the credential now has full access.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::caller::Caller;
use super::views::ErrorBody;
use crate::domain::client::Client;
use crate::domain::credentials::format_time;
use crate::domain::roles::RoleAssignment;
use crate::domain::system_credentials as sc;
use crate::http::error::ApiError;
use crate::state::AppState;

/// A system credential (never its secret).
#[derive(Serialize, ToSchema)]
pub struct SystemCredentialView {
    /// Client id, for HTTP Basic.
    pub client_id: String,
    /// Name.
    pub name: String,
    /// Roles; empty means full access.
    pub roles: Vec<RoleAssignment>,
    /// True when it has no roles and so no limits.
    pub full_access: bool,
    /// Creation time, RFC 3339.
    pub created_at: String,
}

impl From<&Client> for SystemCredentialView {
    fn from(c: &Client) -> Self {
        Self {
            client_id: c.id.clone(),
            name: c.name.clone(),
            roles: c.roles.clone(),
            full_access: c.roles.is_empty(),
            created_at: format_time(c.created_at),
        }
    }
}

/// A new system credential: the only time `client_secret` is shown.
#[derive(Serialize, ToSchema)]
pub struct SystemCredentialCreated {
    /// The credential.
    #[serde(flatten)]
    pub view: SystemCredentialView,
    /// The `sys_` secret.
    pub client_secret: String,
}

/// The result of an update.
#[derive(Serialize, ToSchema)]
pub struct SystemCredentialUpdated {
    /// The credential.
    #[serde(flatten)]
    pub view: SystemCredentialView,
    /// Set when this update removed every role, so the credential now has full access.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

/// A list of system credentials.
#[derive(Serialize, ToSchema)]
pub struct SystemCredentialList {
    /// Newest first.
    pub data: Vec<SystemCredentialView>,
}

/// Body of `POST /api/v1/auth-management/clients`.
#[derive(Deserialize, ToSchema)]
pub struct NewSystemCredential {
    /// 1 to 100 characters, not counting surrounding spaces, without control characters.
    #[serde(default)]
    #[schema(
        required = true,
        min_length = 1,
        max_length = 100,
        example = "Reporting job"
    )]
    pub name: String,
    /// Roles; absent or empty means full access.
    #[serde(default)]
    pub roles: Option<Vec<RoleAssignment>>,
}

/// Body of `PUT /api/v1/auth-management/clients/{client_id}`.
#[derive(Deserialize, ToSchema)]
pub struct SystemCredentialUpdate {
    /// New name, 1 to 100 characters; absent keeps the current one.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// The roles. Absent or null means no roles, so full access, even if it had roles before.
    #[serde(default)]
    pub roles: Option<Vec<RoleAssignment>>,
    /// `system` or `<resource>:<uuid>`: replace only the roles of that context.
    #[serde(default)]
    pub roles_context: Option<String>,
}

/// Create a system credential.
#[utoipa::path(post, path = "/api/v1/auth-management/clients", tag = "System credentials", request_body = NewSystemCredential,
    responses((status = 201, body = SystemCredentialCreated), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 400, description = "The body is not valid JSON", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`", body = ErrorBody),
        (status = 429, description = "Too many requests with this credential: retry after `Retry-After` seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_post(
    caller: Caller,
    body: web::Json<NewSystemCredential>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let (client, secret) =
        sc::create(&state.ctx, &caller.principal, &body.name, body.roles).await?;
    Ok(HttpResponse::Created().json(SystemCredentialCreated {
        view: (&client).into(),
        client_secret: secret.expose().to_owned(),
    }))
}

/// List the tenant's system credentials.
#[utoipa::path(get, path = "/api/v1/auth-management/clients", tag = "System credentials",
    responses((status = 200, body = SystemCredentialList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 429, description = "Too many requests with this credential: retry after `Retry-After` seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_get(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (_, list) = sc::list(&state.ctx, &caller.principal).await?;
    let data = list.iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(SystemCredentialList { data }))
}

/// Get one system credential.
#[utoipa::path(get, path = "/api/v1/auth-management/clients/{client_id}", tag = "System credentials",
    params(("client_id" = String, Path)),
    responses((status = 200, body = SystemCredentialView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, description = "Too many requests with this credential: retry after `Retry-After` seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn one_get(
    caller: Caller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let client = sc::get(&state.ctx, &caller.principal, &id).await?;
    Ok(HttpResponse::Ok().json(SystemCredentialView::from(&client)))
}

/// Update name and roles (seed 001: roles absent or null means full access).
#[utoipa::path(put, path = "/api/v1/auth-management/clients/{client_id}", tag = "System credentials",
    params(("client_id" = String, Path)), request_body = SystemCredentialUpdate,
    responses((status = 200, body = SystemCredentialUpdated), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 400, description = "The body is not valid JSON", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`", body = ErrorBody),
        (status = 429, description = "Too many requests with this credential: retry after `Retry-After` seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_put(
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<SystemCredentialUpdate>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let updated = sc::update(
        &state.ctx,
        &caller.principal,
        &id,
        b.name.as_deref(),
        b.roles,
        b.roles_context.as_deref(),
    )
    .await?;
    let notice = updated.granted_full_access.then(|| {
        "This update removed every role: the credential now has full access to all resources."
            .to_owned()
    });
    Ok(HttpResponse::Ok().json(SystemCredentialUpdated {
        view: (&updated.client).into(),
        notice,
    }))
}

/// Delete a system credential; it stops working at once.
#[utoipa::path(delete, path = "/api/v1/auth-management/clients/{client_id}", tag = "System credentials",
    params(("client_id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, description = "Too many requests with this credential: retry after `Retry-After` seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete(
    caller: Caller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    sc::delete(&state.ctx, &caller.principal, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
