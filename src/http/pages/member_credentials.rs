//! Admin → Member credentials: a tenant administrator lists every member's credentials in the
//! active tenant and revokes any of them. The policy decides who may; this only renders.

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::EmptyForm;
use super::auth::html;
use crate::domain::credentials::format_time;
use crate::domain::principal::Principal;
use crate::http::csrf::CsrfForm;
use crate::http::error::PageError;
use crate::http::session::{CurrentUser, Layout};
use crate::state::AppState;

/// One credential as a table row.
pub struct Row {
    id: String,
    owner: String,
    kind: &'static str,
    name: String,
    prefix: String,
    permissions: String,
    expires: String,
    last_used: String,
}

/// `templates/admin_credentials.html`.
#[derive(Template)]
#[template(path = "admin_credentials.html")]
pub struct MemberCredentialsPage {
    layout: Layout,
    tenant_name: String,
    rows: Vec<Row>,
}

fn when(at: Option<i64>) -> String {
    at.map_or_else(|| "never".into(), format_time)
}

/// `GET /admin/credentials`
pub async fn list_get(
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    state.credentials.flush_last_used().await?;
    let (access, list) = state
        .credentials
        .list_tenant(&Principal::session(&current.user), "active")
        .await?;
    let mut rows = Vec::with_capacity(list.len());
    for c in &list {
        let owner = match &c.user_id {
            Some(id) => crate::domain::accounts::find(&state.ctx, id)
                .await?
                .map_or_else(|| id.clone(), |u| format!("{} <{}>", u.name, u.email)),
            None => String::new(),
        };
        rows.push(Row {
            id: c.id.clone(),
            owner,
            kind: c.kind.label(),
            name: c.name.clone(),
            prefix: c.prefix.clone(),
            permissions: if c.acts_as_user() {
                "acts as its owner".into()
            } else {
                c.permissions.to_string()
            },
            expires: c
                .latest_expiry()
                .map_or_else(|| "no expiry".into(), format_time),
            last_used: when(c.last_used_at),
        });
    }
    let page = MemberCredentialsPage {
        layout: current.layout,
        tenant_name: access.tenant.name,
        rows,
    };
    Ok(html(StatusCode::OK, &page)?)
}

/// `POST /admin/credentials/{id}/revoke`
pub async fn revoke_post(
    _: CsrfForm<EmptyForm>,
    path: web::Path<String>,
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    state
        .credentials
        .revoke_in_tenant(&Principal::session(&current.user), "active", &path)
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((LOCATION, "/admin/credentials"))
        .finish())
}
