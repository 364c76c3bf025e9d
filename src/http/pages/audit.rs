//! Settings → Security log (a person's own events) and Admin → Audit log (everything, filtered
//! by type, actor and time, paginated).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::auth::html;
use crate::domain::audit::{self, AuditEvent, Filter};
use crate::domain::credentials::format_time;
use crate::http::api::audit::AuditQuery;
use crate::http::error::PageError;
use crate::http::session::{CurrentUser, Layout};
use crate::state::AppState;

/// One row of the log.
pub struct Row {
    at: String,
    event: AuditEvent,
    detail: String,
}

/// `templates/audit_log.html`.
#[derive(Template)]
#[template(path = "audit_log.html")]
pub struct AuditPage {
    layout: Layout,
    title: &'static str,
    admin: bool,
    rows: Vec<Row>,
    next: Option<String>,
    event_type: String,
    actor_id: String,
    since: String,
    until: String,
}

fn rows(events: Vec<AuditEvent>) -> Vec<Row> {
    events
        .into_iter()
        .map(|e| Row {
            at: format_time(e.at).replace('T', " ").replace('Z', " UTC"),
            detail: e
                .detail
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            event: e,
        })
        .collect()
}

/// A `YYYY-MM-DD` from a date input, as Unix seconds at the start of that day (UTC).
fn day(raw: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(raw.trim(), format)
        .ok()
        .map(|d| d.midnight().assume_utc().unix_timestamp())
}

/// Query of the pages: the API's filters, with dates for the time range.
#[derive(serde::Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    event_type: String,
    #[serde(default)]
    actor_id: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    cursor: String,
}

fn next_link(q: &PageQuery, cursor: Option<String>) -> Option<String> {
    let cursor = cursor?;
    Some(
        serde_urlencoded::to_string([
            ("event_type", q.event_type.as_str()),
            ("actor_id", q.actor_id.as_str()),
            ("since", q.since.as_str()),
            ("until", q.until.as_str()),
            ("cursor", cursor.as_str()),
        ])
        .unwrap_or_default(),
    )
}

/// `GET /settings/security-log`
pub async fn security_log_get(
    current: CurrentUser,
    q: web::Query<PageQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let filter = Filter {
        cursor: Some(q.cursor.clone()).filter(|c| !c.is_empty()),
        limit: 50,
        ..Filter::default()
    };
    let (events, cursor) = audit::list_own(&state.ctx, &current.user, filter).await?;
    let page = AuditPage {
        layout: current.layout,
        title: "Security log",
        admin: false,
        rows: rows(events),
        next: next_link(&q, cursor),
        event_type: String::new(),
        actor_id: String::new(),
        since: String::new(),
        until: String::new(),
    };
    Ok(html(StatusCode::OK, &page)?)
}

/// `GET /admin/audit-log`
pub async fn audit_log_get(
    current: CurrentUser,
    q: web::Query<PageQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let api = AuditQuery {
        event_type: Some(q.event_type.clone()),
        actor_id: Some(q.actor_id.clone()),
        since: day(&q.since),
        // `until` is inclusive of the day named.
        until: day(&q.until).map(|d| d + 86_400),
        cursor: Some(q.cursor.clone()),
        limit: Some(50),
    };
    let (events, cursor) = audit::list_all_for(&state.ctx, &current.user, &api.filter()).await?;
    let page = AuditPage {
        layout: current.layout,
        title: "Audit log",
        admin: true,
        rows: rows(events),
        next: next_link(&q, cursor),
        event_type: q.event_type.clone(),
        actor_id: q.actor_id.clone(),
        since: q.since.clone(),
        until: q.until.clone(),
    };
    Ok(html(StatusCode::OK, &page)?)
}
