//! Admin → System credentials: create, edit name and roles per context, delete. All forms are
//! CSRF-protected. (Admin → Tenants lives in `tenants`.)

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::html;
use super::{EmptyForm, see_other};
use crate::domain::client::Client;
use crate::domain::principal::Principal;
use crate::domain::roles::{self, RoleAssignment};
use crate::domain::secret_rotation::Overlap;
use crate::domain::system_credentials as sc;
use crate::domain::tenant::Tenant;
use crate::error::AppError;
use crate::http::csrf::CsrfForm;
use crate::http::error::PageError;
use crate::http::layout::flash;
use crate::http::reveal::{Fact, Shown, hold};
use crate::http::session::{CurrentUser, Layout};
use crate::state::AppState;

/// A system credential as the page shows it.
pub struct SystemRow {
    client: Client,
    system_roles: Vec<String>,
    resource_roles: String,
    /// When a rotated-out secret stops working; empty when there is none.
    previous_until: String,
}

impl SystemRow {
    /// Whether it holds `role` in the whole tenant (ticks the role's box).
    pub fn has(&self, role: &str) -> bool {
        self.system_roles.iter().any(|r| r == role)
    }
}

/// `templates/admin_system_credentials.html`.
#[derive(Template)]
#[template(path = "admin_system_credentials.html")]
pub struct SystemPage {
    layout: Layout,
    tenant: Tenant,
    rows: Vec<SystemRow>,
    error: Option<String>,
    /// What a refused creation form held.
    typed: SystemForm,
    /// Its bad fields.
    bad: Vec<&'static str>,
}

impl SystemPage {
    /// Whether the creation form's `field` was refused.
    pub fn is_bad(&self, field: &str) -> bool {
        self.bad.contains(&field)
    }

    /// Whether the creation form ticks `role`.
    pub fn ticks(&self, role: &str) -> bool {
        self.typed.role.iter().any(|r| r == role)
    }
}

/// Resource-scoped roles as the form writes them: one per line, `role resource:uuid`.
fn resource_roles_text(roles: &[RoleAssignment]) -> String {
    roles
        .iter()
        .filter_map(|r| match (&r.resource, &r.resource_instance) {
            (Some(res), Some(i)) => Some(format!("{} {res}:{i}", r.role_id)),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The system-wide roles among `roles`.
fn system_roles(roles: &[RoleAssignment]) -> Vec<String> {
    roles
        .iter()
        .filter(|r| r.resource.is_none())
        .map(|r| r.role_id.clone())
        .collect()
}

fn roles_from_text(text: &str) -> Result<Vec<RoleAssignment>, AppError> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let mut parts = line.split_whitespace();
            let role_id = parts.next().unwrap_or_default().to_owned();
            let (resource, resource_instance) = match parts.next() {
                None => (None, None),
                Some(ctx) => {
                    let (r, i) = ctx.split_once(':').ok_or_else(|| {
                        AppError::validation(
                            "roles",
                            format!("Write `{role_id} <resource>:<uuid>`, not {line:?}."),
                        )
                    })?;
                    (Some(r.to_owned()), Some(i.to_owned()))
                }
            };
            Ok(RoleAssignment {
                role_id,
                resource,
                resource_instance,
            })
        })
        .collect()
}

async fn system_page(
    state: &AppState,
    current: CurrentUser,
    error: Option<String>,
) -> Result<SystemPage, PageError> {
    let (tenant, list) = sc::list(&state.ctx, &Principal::session(&current.user)).await?;
    let now = state.ctx.now();
    let rows = list
        .into_iter()
        .map(|c| SystemRow {
            system_roles: system_roles(&c.roles),
            resource_roles: resource_roles_text(&c.roles),
            previous_until: c
                .previous_secret
                .as_ref()
                .filter(|p| p.until > now)
                .map(|p| super::credentials::when(Some(p.until)))
                .unwrap_or_default(),
            client: c,
        })
        .collect();
    Ok(SystemPage {
        layout: current.layout,
        tenant,
        rows,
        error,
        typed: SystemForm::default(),
        bad: Vec::new(),
    })
}

/// `GET /admin/system-credentials`
pub async fn system_get(
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    Ok(html(
        StatusCode::OK,
        &system_page(&state, current, None).await?,
    )?)
}

/// Form creating or editing a system credential: system-wide roles ticked, resource roles one
/// per line, or explicitly full access (see `roles::choose`).
#[derive(Deserialize, Default)]
pub struct SystemForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: Vec<String>,
    #[serde(default)]
    resource_roles: String,
    #[serde(default)]
    full_access: Option<String>,
}

impl SystemForm {
    fn roles(&self) -> Result<Vec<RoleAssignment>, AppError> {
        let mut picked: Vec<RoleAssignment> = self
            .role
            .iter()
            .map(|r| RoleAssignment {
                role_id: r.clone(),
                resource: None,
                resource_instance: None,
            })
            .collect();
        picked.extend(roles_from_text(&self.resource_roles)?);
        roles::choose(picked, self.full_access.is_some())
    }
}

async fn invalid(
    state: &AppState,
    current: CurrentUser,
    err: AppError,
) -> Result<HttpResponse, PageError> {
    invalid_with(state, current, err, None).await
}

/// The page again after a refusal; a refused creation keeps what was typed.
async fn invalid_with(
    state: &AppState,
    current: CurrentUser,
    err: AppError,
    typed: Option<SystemForm>,
) -> Result<HttpResponse, PageError> {
    match err {
        AppError::Validation { .. } | AppError::Invalid(_) => {
            let mut page = system_page(state, current, Some(err.to_string())).await?;
            page.bad = err.fields().into_iter().map(|(f, _)| f).collect();
            page.typed = typed.unwrap_or_default();
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page)?)
        }
        other => Err(other.into()),
    }
}

/// `POST /admin/system-credentials`
pub async fn system_create_post(
    CsrfForm(f): CsrfForm<SystemForm>,
    current: CurrentUser,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let me = Principal::session(&current.user);
    let created = match f.roles() {
        Ok(roles) => sc::create(&state.ctx, &me, &f.name, Some(roles)).await,
        Err(e) => Err(e),
    };
    match created {
        Ok((client, secret)) => {
            let shown = Shown::secret(
                &format!("System credential “{}”", client.name),
                secret.expose(),
                "Exchange the client id and secret (HTTP Basic) at POST /api/v0/login or /oauth/token.",
                "/admin/system-credentials",
                "Done: back to system credentials",
            )
            .with_facts(
                "revealed-secret",
                vec![Fact::new("system-client-id", "Client id", &client.id)],
            );
            hold(&session, &state, &current.user, &shown)
        }
        Err(e) => invalid_with(&state, current, e, Some(f)).await,
    }
}

/// `POST /admin/system-credentials/{id}/update`
pub async fn system_update_post(
    CsrfForm(f): CsrfForm<SystemForm>,
    id: web::Path<String>,
    current: CurrentUser,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let me = Principal::session(&current.user);
    let updated = match f.roles() {
        Ok(roles) => sc::update(&state.ctx, &me, &id, Some(&f.name), Some(roles), None).await,
        Err(e) => Err(e),
    };
    match updated {
        Ok(u) => {
            let message = if u.client.roles.is_empty() {
                format!(
                    "Saved. {} has no roles: it has full access to all resources.",
                    u.client.name
                )
            } else {
                format!("Saved {}.", u.client.name)
            };
            flash(&session, message)?;
            Ok(see_other("/admin/system-credentials"))
        }
        Err(e) => invalid(&state, current, e).await,
    }
}

/// The rotate form: how long the current secret keeps working (`none`, `1h`, `24h`, `7d`).
#[derive(Deserialize)]
pub struct RotateForm {
    #[serde(default)]
    overlap: String,
}

/// `POST /admin/system-credentials/{id}/rotate-secret`: the new secret is revealed once.
pub async fn system_rotate_post(
    CsrfForm(f): CsrfForm<RotateForm>,
    id: web::Path<String>,
    current: CurrentUser,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let me = Principal::session(&current.user);
    let rotated = match Overlap::parse(&f.overlap) {
        Ok(overlap) => sc::rotate_secret(&state.ctx, &me, &id, overlap).await,
        Err(e) => Err(e),
    };
    match rotated {
        Ok((client, secret)) => {
            let note = match &client.previous_secret {
                Some(p) => format!(
                    "The previous secret keeps working until {}, then stops by itself.",
                    super::credentials::when(Some(p.until))
                ),
                None => "The previous secret stopped working.".into(),
            };
            let shown = Shown::secret(
                &format!("System credential “{}”: new secret", client.name),
                secret.expose(),
                &note,
                "/admin/system-credentials",
                "Done: back to system credentials",
            )
            .with_facts(
                "revealed-secret",
                vec![Fact::new("system-client-id", "Client id", &client.id)],
            );
            hold(&session, &state, &current.user, &shown)
        }
        Err(e) => invalid(&state, current, e).await,
    }
}

/// `POST /admin/system-credentials/{id}/delete`
pub async fn system_delete_post(
    _: CsrfForm<EmptyForm>,
    id: web::Path<String>,
    current: CurrentUser,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    sc::delete(&state.ctx, &Principal::session(&current.user), &id).await?;
    flash(
        &session,
        "System credential deleted. It stopped working at once.",
    )?;
    Ok(see_other("/admin/system-credentials"))
}
