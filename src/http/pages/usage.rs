//! Usage pages: a credential's requests and failures over the last 48 hours and 30 days
//! (`/settings/credentials/{id}/usage`), and an OAuth app's (`/settings/apps/{client_id}/usage`):
//! requests made with its tokens and tokens issued to it. The domain asks the policy who may see
//! them; this only draws the charts.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::auth::html;
use super::chart::{self, Measure};
use crate::domain::principal::Principal;
use crate::domain::usage::{self, Report};
use crate::http::error::PageError;
use crate::http::session::{CurrentUser, Layout};
use crate::state::AppState;

/// One pair of charts (hourly and daily) with a heading.
pub struct Section {
    heading: &'static str,
    total: i64,
    hourly: String,
    daily: String,
}

impl Section {
    fn of(heading: &'static str, report: &Report) -> Self {
        Self {
            heading,
            total: report.total_requests(),
            hourly: chart::bars(
                &report.hourly,
                true,
                "Last 48 hours, hourly",
                Measure::Requests,
            ),
            daily: chart::bars(
                &report.daily,
                false,
                "Last 30 days, daily",
                Measure::Requests,
            ),
        }
    }
}

/// `templates/usage.html`.
#[derive(Template)]
#[template(path = "usage.html")]
pub struct UsagePage {
    layout: Layout,
    title: String,
    back: &'static str,
    sections: Vec<Section>,
}

/// `GET /settings/credentials/{id}/usage`
pub async fn credential_usage_get(
    current: CurrentUser,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let caller = Principal::session(&current.user);
    let report = usage::of_credential(&state.ctx, &caller, &path).await?;
    let page = UsagePage {
        layout: current.layout,
        title: format!("Usage of credential {}", path.as_str()),
        back: "/settings/credentials",
        sections: vec![Section::of("Requests", &report)],
    };
    Ok(html(StatusCode::OK, &page)?)
}

/// `GET /settings/apps/{client_id}/usage`
pub async fn app_usage_get(
    current: CurrentUser,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let (requests, tokens) = usage::of_app(&state.ctx, &current.user, &path).await?;
    let page = UsagePage {
        layout: current.layout,
        title: format!("Usage of app {}", path.as_str()),
        back: "/settings/apps",
        sections: vec![
            Section::of("Requests made with its access tokens", &requests),
            Section::of(
                "Token requests (tokens issued, refusals as failures)",
                &tokens,
            ),
        ],
    };
    Ok(html(StatusCode::OK, &page)?)
}
