//! `GET /healthz` (readiness): 200 when the database answers, 503 otherwise, within about a
//! second either way (the ping is bounded), so a balancer stops sending traffic to a node that
//! lost its database and sends it again once the database is back. `GET /livez` (liveness)
//! never touches the database: a node without its database is not hung, and restarting it
//! would not bring the database back. Small enough for load balancers to poll often.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::state::AppState;

/// `GET /livez`: the process answers (no database round trip). Also the benchmark's baseline:
/// the cost of HTTP alone in this server.
pub async fn livez_get() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"status":"ok"}"#)
}

/// `GET /healthz`. On PostgreSQL, `invalidation` says whether this node hears other nodes'
/// changes (`listening`) or, until its listener reconnects, relies on cache expiry (`degraded
/// (ttl fallback)`): still ready either way.
pub async fn healthz_get(state: web::Data<AppState>) -> HttpResponse {
    if state.ctx.database_answers().await {
        let mut body = json!({"status": "ok", "database": "ok"});
        if let Some(link) = state.caches.link() {
            body["invalidation"] = link.describe().into();
        }
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable()
            .json(json!({"status": "unavailable", "database": "unreachable"}))
    }
}
