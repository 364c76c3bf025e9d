//! `GET /admin/audit-log/export?format=csv|json&…`: the audit log's filtered view (the page's
//! filters, every page of it up to `audit::EXPORT_MAX` events) as a download. Never cached: it
//! holds addresses and account ids. In CSV a cell a spreadsheet would run as a formula (starting
//! with `=`, `+`, `-`, `@`, tab or carriage return) is prefixed with `'` (OWASP "CSV injection").

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::{HttpResponse, web};

use super::audit::PageQuery;
use crate::domain::audit::{self, AuditEvent};
use crate::error::AppError;
use crate::http::error::PageError;
use crate::http::session::CurrentUser;
use crate::state::AppState;

/// The export's format.
#[derive(serde::Deserialize)]
pub struct Format {
    #[serde(default)]
    format: String,
}

const COLUMNS: [&str; 12] = [
    "id",
    "at",
    "event_type",
    "outcome",
    "actor_type",
    "actor_id",
    "subject_user_id",
    "tenant_id",
    "target",
    "ip",
    "user_agent",
    "detail",
];

/// One CSV cell: neutralised if a spreadsheet would read it as a formula, then quoted.
pub fn csv_cell(raw: &str) -> String {
    let risky = raw.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let value = if risky {
        format!("'{raw}")
    } else {
        raw.to_owned()
    };
    format!("\"{}\"", value.replace('"', "\"\""))
}

fn csv(events: &[AuditEvent]) -> String {
    let mut out = COLUMNS.join(",");
    out.push_str("\r\n");
    for e in events {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let cells = [
            e.id.clone(),
            e.at.to_string(),
            e.event_type.clone(),
            e.outcome.clone(),
            e.actor_type.clone(),
            opt(&e.actor_id),
            opt(&e.subject_user_id),
            opt(&e.tenant_id),
            opt(&e.target),
            opt(&e.ip),
            opt(&e.user_agent),
            e.detail
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// `GET /admin/audit-log/export`
pub async fn export_get(
    current: CurrentUser,
    q: web::Query<PageQuery>,
    f: web::Query<Format>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    // Authorized first: a refused caller learns nothing, not even which formats exist.
    let events = audit::export_for(&state.ctx, &current.user, &q.filter(0)).await?;
    let (body, content_type, ext) = match f.format.as_str() {
        "csv" => (csv(&events), "text/csv; charset=utf-8", "csv"),
        "json" => (
            serde_json::to_string(&events).map_err(AppError::internal)?,
            "application/json",
            "json",
        ),
        _ => return Err(AppError::validation("format", "Choose csv or json.").into()),
    };
    Ok(HttpResponse::build(StatusCode::OK)
        .insert_header((CONTENT_TYPE, content_type))
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"audit-log.{ext}\""),
        ))
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn cells_a_spreadsheet_would_run_are_neutralised_and_quotes_doubled() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "\"'+1\"");
        assert_eq!(csv_cell("-2"), "\"'-2\"");
        assert_eq!(csv_cell("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(csv_cell("signin.failure"), "\"signin.failure\"");
        assert_eq!(csv_cell(""), "\"\"");
    }
}
