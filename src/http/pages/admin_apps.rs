//! Admin → Apps: every registered app with the flags only server administrators set
//! (`domain::client_flags`). The form is CSRF-protected; the domain refuses everyone but server
//! administrators.

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::html;
use crate::domain::client::Client;
use crate::domain::client_flags::{self, FlagChange};
use crate::domain::context::Actor;
use crate::error::AppError;
use crate::http::csrf::CsrfForm;
use crate::http::error::PageError;
use crate::http::session::{CurrentUser, Layout};
use crate::state::AppState;

/// `templates/admin_apps.html`.
#[derive(Template)]
#[template(path = "admin_apps.html")]
pub struct AppsPage {
    layout: Layout,
    apps: Vec<Client>,
    error: Option<String>,
}

async fn page(
    state: &AppState,
    current: CurrentUser,
    error: Option<String>,
) -> Result<AppsPage, PageError> {
    let apps = client_flags::all_apps(&state.ctx, Actor::User(&current.user)).await?;
    Ok(AppsPage {
        layout: current.layout,
        apps,
        error,
    })
}

/// `GET /admin/apps`
pub async fn apps_get(
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    Ok(html(StatusCode::OK, &page(&state, current, None).await?)?)
}

/// The flags form: a checkbox is sent only when ticked.
#[derive(Deserialize)]
pub struct FlagsForm {
    #[serde(default)]
    resource_server: Option<String>,
    #[serde(default)]
    first_party: Option<String>,
    #[serde(default)]
    require_second_factor: Option<String>,
}

/// `POST /admin/apps/{client_id}/flags`
pub async fn flags_post(
    CsrfForm(f): CsrfForm<FlagsForm>,
    client_id: web::Path<String>,
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let change = FlagChange {
        resource_server: Some(f.resource_server.is_some()),
        first_party: Some(f.first_party.is_some()),
        require_second_factor: Some(f.require_second_factor.is_some()),
    };
    let by = Actor::User(&current.user);
    match client_flags::set(&state.ctx, by, &client_id, change).await {
        Ok(_) => Ok(HttpResponse::SeeOther()
            .insert_header((LOCATION, "/admin/apps"))
            .finish()),
        Err(AppError::Validation { message, .. }) => {
            let page = page(&state, current, Some(message)).await?;
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page)?)
        }
        Err(e) => Err(e.into()),
    }
}
