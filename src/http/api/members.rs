//! A tenant's members and invitations: `/api/v1/{tenant_id}/members` (any member lists; the
//! tenant's administrators change roles and remove) and `/api/v1/{tenant_id}/invitations`
//! (administrators invite, list and revoke). Who may do what is decided in `domain::membership`;
//! changes need the `admin` scope, reading needs `read`. Inviting answers the same whoever the
//! address belongs to.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::caller::Caller;
use super::views::ErrorBody;
use crate::domain::credentials::format_time;
use crate::domain::membership::{self, Invitation};
use crate::domain::policy::Role;
use crate::domain::user::User;
use crate::error::AppError;
use crate::http::error::ApiError;
use crate::state::AppState;

/// A role in a tenant.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoleName {
    /// Everything, including managing members.
    Admin,
    /// Reads and changes resources.
    Editor,
    /// Reads.
    Viewer,
}

impl From<Role> for RoleName {
    fn from(r: Role) -> Self {
        match r {
            Role::Admin => Self::Admin,
            Role::Editor => Self::Editor,
            Role::Viewer => Self::Viewer,
        }
    }
}

/// A member of a tenant.
#[derive(Serialize, ToSchema)]
pub struct MemberView {
    /// The account (`usr_…`).
    pub user_id: String,
    /// Display name.
    pub name: String,
    /// Their role.
    pub role: RoleName,
}

/// A tenant's members.
#[derive(Serialize, ToSchema)]
pub struct MemberList {
    /// Oldest membership first.
    pub data: Vec<MemberView>,
}

/// Body of `PUT /api/v1/{tenant_id}/members/{user_id}`.
#[derive(Deserialize, ToSchema)]
pub struct RoleBody {
    /// `admin`, `editor` or `viewer`.
    #[serde(default)]
    #[schema(value_type = String, required = true, example = "editor")]
    pub role: Option<String>,
}

/// Body of `POST /api/v1/{tenant_id}/invitations`.
#[derive(Deserialize, ToSchema)]
pub struct NewInvitation {
    /// The address to invite, at most 254 characters.
    #[serde(default)]
    #[schema(value_type = String, required = true, max_length = 254, example = "ada@example.com")]
    pub email: Option<String>,
    /// `admin`, `editor` or `viewer`.
    #[serde(default)]
    #[schema(value_type = String, required = true, example = "viewer")]
    pub role: Option<String>,
}

/// The answer to an invitation: the same whether or not the address has an account here, is a
/// member or was invited already (it does not even repeat the address).
#[derive(Serialize, ToSchema)]
pub struct InvitationQueued {
    /// Always `pending`.
    #[schema(example = "pending")]
    pub status: &'static str,
    /// The role accepting gives.
    pub role: RoleName,
}

/// A pending invitation, as the tenant's administrators see it.
#[derive(Serialize, ToSchema)]
pub struct InvitationView {
    /// Invitation id.
    pub id: String,
    /// The invited address.
    pub email: String,
    /// The role accepting gives.
    pub role: RoleName,
    /// When it was (last) sent, RFC 3339.
    pub created_at: String,
    /// When it can no longer be accepted, RFC 3339.
    pub expires_at: String,
}

impl From<Invitation> for InvitationView {
    fn from(i: Invitation) -> Self {
        Self {
            id: i.id,
            email: i.email,
            role: i.role.into(),
            created_at: format_time(i.created_at),
            expires_at: format_time(i.expires_at),
        }
    }
}

/// A tenant's pending invitations.
#[derive(Serialize, ToSchema)]
pub struct InvitationList {
    /// Oldest first.
    pub data: Vec<InvitationView>,
}

fn member_view(u: User, role: Role) -> MemberView {
    MemberView {
        user_id: u.public_id(),
        name: u.name,
        role: role.into(),
    }
}

/// The stored id behind a `usr_…` path segment; anything else names no member.
fn member_id(raw: &str) -> Result<String, AppError> {
    User::id_from_public(raw).ok_or(AppError::NotFound("Member"))
}

/// List the tenant's members and their roles.
#[utoipa::path(get, path = "/api/v1/{tenant_id}/members", tag = "Members",
    params(("tenant_id" = String, Path, description = "A tenant id, or `active`")),
    responses((status = 200, body = MemberList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, description = "Too many requests with this credential: retry after `Retry-After` seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn members_get(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (_, members) = membership::members(&state.ctx, &caller.principal, &path).await?;
    let data = members
        .into_iter()
        .map(|(u, r)| member_view(u, r))
        .collect();
    Ok(HttpResponse::Ok().json(MemberList { data }))
}

/// Change a member's role (the tenant's administrators); a tenant keeps at least one
/// administrator (409).
#[utoipa::path(put, path = "/api/v1/{tenant_id}/members/{user_id}", tag = "Members",
    params(("tenant_id" = String, Path, description = "A tenant id, or `active`"), ("user_id" = String, Path, description = "`usr_…`")),
    request_body = RoleBody,
    responses((status = 200, body = MemberView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 400, description = "The body is not valid JSON", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`", body = ErrorBody),
        (status = 429, description = "Too many requests with this credential: retry after `Retry-After` seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn member_put(
    caller: Caller,
    path: web::Path<(String, String)>,
    body: web::Json<RoleBody>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (tenant, member_raw) = path.into_inner();
    let member = member_id(&member_raw)?;
    let role = body.into_inner().role.unwrap_or_default();
    let (u, r) =
        membership::change_role(&state.ctx, &caller.principal, &tenant, &member, &role).await?;
    Ok(HttpResponse::Ok().json(member_view(u, r)))
}

/// Remove a member (the tenant's administrators); a tenant keeps at least one administrator
/// (409).
#[utoipa::path(delete, path = "/api/v1/{tenant_id}/members/{user_id}", tag = "Members",
    params(("tenant_id" = String, Path, description = "A tenant id, or `active`"), ("user_id" = String, Path, description = "`usr_…`")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 429, description = "Too many requests with this credential: retry after `Retry-After` seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn member_delete(
    caller: Caller,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (tenant, member_raw) = path.into_inner();
    let member = member_id(&member_raw)?;
    membership::remove(&state.ctx, &caller.principal, &tenant, &member).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Invite someone by email (the tenant's administrators). The answer is the same whoever the
/// address belongs to; inviting an address already invited updates that invitation's role.
#[utoipa::path(post, path = "/api/v1/{tenant_id}/invitations", tag = "Members",
    params(("tenant_id" = String, Path, description = "A tenant id, or `active`")),
    request_body = NewInvitation,
    responses((status = 202, body = InvitationQueued), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "Too many pending invitations", body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 400, description = "The body is not valid JSON", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`", body = ErrorBody),
        (status = 429, description = "Too many requests with this credential: retry after `Retry-After` seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn invitation_post(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<NewInvitation>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let (email, role) = (b.email.unwrap_or_default(), b.role.unwrap_or_default());
    let (_, role) = membership::invite(&state.ctx, &caller.principal, &path, &email, &role).await?;
    Ok(HttpResponse::Accepted().json(InvitationQueued {
        status: "pending",
        role: role.into(),
    }))
}

/// List the tenant's pending invitations (the tenant's administrators).
#[utoipa::path(get, path = "/api/v1/{tenant_id}/invitations", tag = "Members",
    params(("tenant_id" = String, Path, description = "A tenant id, or `active`")),
    responses((status = 200, body = InvitationList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, description = "Too many requests with this credential: retry after `Retry-After` seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn invitations_get(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let data = membership::invitations(&state.ctx, &caller.principal, &path)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(HttpResponse::Ok().json(InvitationList { data }))
}

/// Revoke a pending invitation (the tenant's administrators).
#[utoipa::path(delete, path = "/api/v1/{tenant_id}/invitations/{invitation_id}", tag = "Members",
    params(("tenant_id" = String, Path, description = "A tenant id, or `active`"), ("invitation_id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, description = "Too many requests with this credential: retry after `Retry-After` seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn invitation_delete(
    caller: Caller,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (tenant, id) = path.into_inner();
    membership::revoke(&state.ctx, &caller.principal, &tenant, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
