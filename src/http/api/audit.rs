//! `GET /api/v1/audit-events`: the audit log for server administrators, filtered and
//! cursor-paginated, newest first.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::caller::Caller;
use super::views::ErrorBody;
use crate::domain::audit::{self, AuditEvent, Filter};
use crate::http::error::ApiError;
use crate::state::AppState;

/// Filters of the audit log.
#[derive(Deserialize, IntoParams)]
pub struct AuditQuery {
    /// Only this event type, e.g. `signin.failure`.
    #[serde(default)]
    pub event_type: Option<String>,
    /// Only events by this actor id.
    #[serde(default)]
    pub actor_id: Option<String>,
    /// At or after this time (Unix seconds).
    #[serde(default)]
    pub since: Option<i64>,
    /// Before this time (Unix seconds).
    #[serde(default)]
    pub until: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[serde(default)]
    pub limit: Option<u64>,
}

impl AuditQuery {
    /// The domain filter.
    pub fn filter(&self) -> Filter {
        Filter {
            subject_user_id: None,
            event_type: self.event_type.clone().filter(|s| !s.is_empty()),
            event_prefix: None,
            actor_id: self.actor_id.clone().filter(|s| !s.is_empty()),
            since: self.since,
            until: self.until,
            cursor: self.cursor.clone().filter(|s| !s.is_empty()),
            limit: self.limit.unwrap_or(50).clamp(1, 200),
        }
    }
}

/// A page of audit events.
#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    /// Newest first.
    pub data: Vec<AuditEvent>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// The audit log (server administrators).
#[utoipa::path(get, path = "/api/v1/audit-events", tag = "Audit", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_get(
    caller: Caller,
    q: web::Query<AuditQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (data, next_cursor) = audit::list_all(&state.ctx, &caller.principal, &q.filter()).await?;
    Ok(HttpResponse::Ok().json(AuditPage { data, next_cursor }))
}
