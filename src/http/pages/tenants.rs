//! Admin → Tenants: creating tenants, and a tenant's members (role changes, removal) and
//! invitations (invite by email, revoke); the header's tenant switcher. Who may do what is decided
//! in `domain::membership`. All forms are CSRF-protected.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::html;
use super::{EmptyForm, see_other};
use crate::domain::credentials::format_time;
use crate::domain::membership;
use crate::domain::policy::Role;
use crate::domain::principal::Principal;
use crate::domain::tenant::{self, Tenant};
use crate::domain::user::User;
use crate::error::AppError;
use crate::http::csrf::CsrfForm;
use crate::http::error::PageError;
use crate::http::layout::flash;
use crate::http::session::{CurrentUser, Layout};
use crate::state::AppState;

/// What the page says after an invitation, whoever it was for.
const INVITED: &str = "Invitation saved. The person sees it when they sign in with that address.";

/// Form of the tenant switcher.
#[derive(Deserialize)]
pub struct SwitchForm {
    tenant_id: String,
}

/// `POST /settings/active-tenant`
pub async fn switch_post(
    CsrfForm(f): CsrfForm<SwitchForm>,
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    tenant::switch(&state.ctx, &current.user, &f.tenant_id).await?;
    Ok(see_other("/settings/credentials"))
}

/// A pending invitation as the page lists it.
pub struct InvitationRow {
    id: String,
    email: String,
    role: Role,
    expires: String,
}

/// The tenant being managed.
pub struct Selected {
    tenant: Tenant,
    members: Vec<(User, Role)>,
    invitations: Vec<InvitationRow>,
}

/// `templates/admin_tenants.html`.
#[derive(Template)]
#[template(path = "admin_tenants.html")]
pub struct TenantsPage {
    layout: Layout,
    tenants: Vec<(Tenant, String)>,
    selected: Option<Selected>,
    roles: &'static [Role],
    notice: Option<&'static str>,
    error: Option<String>,
}

async fn tenants_page(
    state: &AppState,
    current: CurrentUser,
    selected: Option<&str>,
    error: Option<String>,
) -> Result<TenantsPage, PageError> {
    let user = &current.user;
    let tenants = tenant::visible(&state.ctx, user).await?;
    let selected = match selected {
        Some(id) => {
            let me = Principal::session(user);
            let invitations = membership::invitations(&state.ctx, &me, id)
                .await?
                .into_iter()
                .map(|i| InvitationRow {
                    id: i.id,
                    email: i.email,
                    role: i.role,
                    expires: format_time(i.expires_at),
                })
                .collect();
            let (tenant, members) = membership::members(&state.ctx, &me, id).await?;
            Some(Selected {
                tenant,
                members,
                invitations,
            })
        }
        None => None,
    };
    Ok(TenantsPage {
        layout: current.layout,
        tenants,
        selected,
        roles: &Role::ALL,
        notice: None,
        error,
    })
}

/// Re-renders the tenant's page with what went wrong, or passes other errors on.
async fn refused(
    state: &AppState,
    current: CurrentUser,
    tenant_id: &str,
    err: AppError,
) -> Result<HttpResponse, PageError> {
    let status = match &err {
        AppError::Validation { .. } | AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Conflict(_) => StatusCode::CONFLICT,
        _ => return Err(err.into()),
    };
    let page = tenants_page(state, current, Some(tenant_id), Some(err.to_string())).await?;
    Ok(html(status, &page)?)
}

/// `GET /admin/tenants`
pub async fn tenants_get(
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    Ok(html(
        StatusCode::OK,
        &tenants_page(&state, current, None, None).await?,
    )?)
}

/// Query of `GET /admin/tenants/{id}`.
#[derive(Deserialize)]
pub struct TenantQuery {
    /// Set after an invitation: show the (fixed) confirmation.
    #[serde(default)]
    invited: Option<String>,
}

/// `GET /admin/tenants/{id}`
pub async fn tenant_get(
    id: web::Path<String>,
    q: web::Query<TenantQuery>,
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let mut page = tenants_page(&state, current, Some(&id), None).await?;
    page.notice = q.invited.is_some().then_some(INVITED);
    Ok(html(StatusCode::OK, &page)?)
}

/// Form creating a tenant.
#[derive(Deserialize)]
pub struct NewTenantForm {
    #[serde(default)]
    name: String,
}

/// `POST /admin/tenants`
pub async fn tenant_create_post(
    CsrfForm(f): CsrfForm<NewTenantForm>,
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    match tenant::create(&state.ctx, &current.user, &f.name).await {
        Ok(t) => Ok(see_other(&format!("/admin/tenants/{}", t.id))),
        Err(AppError::Validation { message, .. }) => {
            let page = tenants_page(&state, current, None, Some(message)).await?;
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page)?)
        }
        Err(e) => Err(e.into()),
    }
}

/// Form inviting someone.
#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

/// `POST /admin/tenants/{id}/invitations`: the same redirect whoever the address belongs to.
pub async fn invite_post(
    CsrfForm(f): CsrfForm<InviteForm>,
    id: web::Path<String>,
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let me = Principal::session(&current.user);
    match membership::invite(&state.ctx, &me, &id, &f.email, &f.role).await {
        Ok((t, _)) => Ok(see_other(&format!("/admin/tenants/{}?invited=1", t.id))),
        Err(e) => refused(&state, current, &id, e).await,
    }
}

/// `POST /admin/tenants/{id}/invitations/{invitation_id}/revoke`
pub async fn invitation_revoke_post(
    _: CsrfForm<EmptyForm>,
    path: web::Path<(String, String)>,
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let (id, invitation_id) = path.into_inner();
    let me = Principal::session(&current.user);
    membership::revoke(&state.ctx, &me, &id, &invitation_id).await?;
    Ok(see_other(&format!("/admin/tenants/{id}")))
}

/// Form changing a member's role.
#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

/// `POST /admin/tenants/{id}/members/{user_id}/role`: the role `<select>` and Save on each
/// member's row; the page says what changed, or why not (the last administrator stays one).
pub async fn member_role_post(
    CsrfForm(f): CsrfForm<RoleForm>,
    path: web::Path<(String, String)>,
    current: CurrentUser,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let (id, user_id) = path.into_inner();
    let me = Principal::session(&current.user);
    let changed = membership::change_role(&state.ctx, &me, &id, &user_id, &f.role).await;
    match changed {
        Ok((member, role)) => {
            flash(
                &session,
                format!("{} is now {}.", member.name, role.as_str()),
            )?;
            Ok(see_other(&format!("/admin/tenants/{id}")))
        }
        Err(e) => refused(&state, current, &id, e).await,
    }
}

/// `POST /admin/tenants/{id}/members/{user_id}/remove`
pub async fn member_remove_post(
    _: CsrfForm<EmptyForm>,
    path: web::Path<(String, String)>,
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let (id, user_id) = path.into_inner();
    let me = Principal::session(&current.user);
    match membership::remove(&state.ctx, &me, &id, &user_id).await {
        Ok(()) => Ok(see_other(&format!("/admin/tenants/{id}"))),
        Err(e) => refused(&state, current, &id, e).await,
    }
}
