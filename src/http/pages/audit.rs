//! Settings → Security log (a person's own events) and Admin → Audit log (everything): one page,
//! filtered by type (a known type picked from the list, or the start of one typed: `token.`),
//! actor and time, newest first, paginated with a cursor. Admins also see failures per day and
//! may export the filtered view (`audit_export`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::auth::html;
use super::chart::{self, Measure};
use crate::domain::audit::{self, EVENT_TYPES, Filter};
use crate::domain::audit_view::{self, Shown};
use crate::domain::credentials::format_time;
use crate::domain::usage;
use crate::http::error::PageError;
use crate::http::session::{CurrentUser, Layout};
use crate::state::AppState;

/// One row of the log.
pub struct Row {
    at: String,
    shown: Shown,
    detail: String,
}

/// `templates/audit_log.html`.
#[derive(Template)]
#[template(path = "audit_log.html")]
pub struct AuditPage {
    layout: Layout,
    title: &'static str,
    admin: bool,
    action: &'static str,
    rows: Vec<Row>,
    next: Option<String>,
    first: Option<String>,
    export: String,
    types: &'static [&'static str],
    failures: String,
    q: PageQuery,
}

fn rows(events: Vec<Shown>) -> Vec<Row> {
    events
        .into_iter()
        .map(|s| Row {
            at: format_time(s.event.at)
                .replace('T', " ")
                .replace('Z', " UTC"),
            detail: s
                .event
                .detail
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            shown: s,
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

/// Query of the pages and of the export: type, actor, dates, and the page's cursor.
#[derive(serde::Deserialize, Default, Clone)]
pub struct PageQuery {
    #[serde(default)]
    pub(super) event_type: String,
    #[serde(default)]
    pub(super) actor_id: String,
    #[serde(default)]
    pub(super) since: String,
    #[serde(default)]
    pub(super) until: String,
    #[serde(default)]
    pub(super) cursor: String,
}

impl PageQuery {
    /// The domain filter of these fields, `limit` events a page.
    pub(super) fn filter(&self, limit: u64) -> Filter {
        Filter {
            since: day(&self.since),
            // `until` is inclusive of the day named.
            until: day(&self.until).map(|d| d + 86_400),
            cursor: Some(self.cursor.clone()).filter(|c| !c.is_empty()),
            limit,
            ..Filter::default()
        }
        .of_type(&self.event_type)
        .by_actor(&self.actor_id)
    }

    /// The query string of these filters, with `cursor` (none: the newest page).
    fn link(&self, cursor: Option<&str>) -> String {
        let mut pairs = vec![
            ("event_type", self.event_type.as_str()),
            ("actor_id", self.actor_id.as_str()),
            ("since", self.since.as_str()),
            ("until", self.until.as_str()),
        ];
        if let Some(c) = cursor {
            pairs.push(("cursor", c));
        }
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

fn page(
    layout: Layout,
    admin: bool,
    q: &PageQuery,
    events: Vec<Shown>,
    cursor: Option<String>,
    failures: String,
) -> AuditPage {
    AuditPage {
        layout,
        title: if admin { "Audit log" } else { "Security log" },
        admin,
        action: if admin {
            "/admin/audit-log"
        } else {
            "/settings/security-log"
        },
        rows: rows(events),
        next: cursor.map(|c| q.link(Some(&c))),
        first: (!q.cursor.is_empty()).then(|| q.link(None)),
        export: q.link(None),
        types: EVENT_TYPES,
        failures,
        q: q.clone(),
    }
}

/// `GET /settings/security-log`
pub async fn security_log_get(
    current: CurrentUser,
    q: web::Query<PageQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let (events, cursor) = audit::list_own(&state.ctx, &current.user, q.filter(50)).await?;
    let events = audit_view::shown(&state.ctx, events).await?;
    let page = page(current.layout, false, &q, events, cursor, String::new());
    Ok(html(StatusCode::OK, &page)?)
}

/// `GET /admin/audit-log`
pub async fn audit_log_get(
    current: CurrentUser,
    q: web::Query<PageQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let (events, cursor) = audit::list_all_for(&state.ctx, &current.user, &q.filter(50)).await?;
    let events = audit_view::shown(&state.ctx, events).await?;
    let per_day = usage::audit_failures_per_day(&state.ctx, &current.user).await?;
    let failures = chart::bars(
        &per_day,
        false,
        "Failure events per day, last 30 days",
        Measure::Failures,
    );
    let page = page(current.layout, true, &q, events, cursor, failures);
    Ok(html(StatusCode::OK, &page)?)
}
