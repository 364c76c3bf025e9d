//! The caller's own invitations: `GET /api/v1/invitations` (`read`), and accepting or declining
//! one (`admin`). Only invitations addressed to the caller's email exist here; any other id is a
//! 404.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::caller::Caller;
use super::members::RoleName;
use super::views::ErrorBody;
use crate::domain::credentials::format_time;
use crate::domain::membership::{self, Pending};
use crate::http::error::ApiError;
use crate::state::AppState;

/// An invitation addressed to the caller.
#[derive(Serialize, ToSchema)]
pub struct MyInvitationView {
    /// Invitation id.
    pub id: String,
    /// The tenant it invites to.
    pub tenant_id: String,
    /// The tenant's name.
    pub tenant_name: String,
    /// The role accepting gives.
    pub role: RoleName,
    /// When it can no longer be accepted, RFC 3339.
    pub expires_at: String,
}

impl From<Pending> for MyInvitationView {
    fn from(p: Pending) -> Self {
        Self {
            id: p.invitation.id,
            tenant_id: p.tenant.id,
            tenant_name: p.tenant.name,
            role: p.invitation.role.into(),
            expires_at: format_time(p.invitation.expires_at),
        }
    }
}

/// The caller's pending invitations.
#[derive(Serialize, ToSchema)]
pub struct MyInvitationList {
    /// Oldest first.
    pub data: Vec<MyInvitationView>,
}

/// The membership an accepted invitation made.
#[derive(Serialize, ToSchema)]
pub struct Joined {
    /// The tenant joined.
    pub tenant_id: String,
    /// Its name.
    pub tenant_name: String,
    /// The caller's role in it.
    pub role: RoleName,
}

/// List the invitations addressed to the caller's email that can still be accepted.
#[utoipa::path(get, path = "/api/v1/invitations", tag = "Invitations",
    responses((status = 200, body = MyInvitationList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, description = "Too many requests with this credential: retry after `Retry-After` seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn mine_get(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let data = membership::pending_for(&state.ctx, &caller.principal)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(HttpResponse::Ok().json(MyInvitationList { data }))
}

/// Accept an invitation: the caller becomes a member with its role.
#[utoipa::path(post, path = "/api/v1/invitations/{invitation_id}/accept", tag = "Invitations",
    params(("invitation_id" = String, Path)),
    responses((status = 200, body = Joined), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "No such invitation for the caller: another's, revoked, declined or expired", body = ErrorBody),
        (status = 429, description = "Too many requests with this credential: retry after `Retry-After` seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn accept_post(
    caller: Caller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (tenant, role) = membership::accept(&state.ctx, &caller.principal, &id).await?;
    Ok(HttpResponse::Ok().json(Joined {
        tenant_id: tenant.id,
        tenant_name: tenant.name,
        role: role.into(),
    }))
}

/// Decline an invitation; it is gone.
#[utoipa::path(post, path = "/api/v1/invitations/{invitation_id}/decline", tag = "Invitations",
    params(("invitation_id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, description = "Too many requests with this credential: retry after `Retry-After` seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn decline_post(
    caller: Caller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    membership::decline(&state.ctx, &caller.principal, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
