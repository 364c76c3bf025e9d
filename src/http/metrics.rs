//! `GET /metrics` (Prometheus text format) and the middleware that counts and times every
//! request. Both exist only when `--metrics-token` is set; the route then answers only requests
//! bearing that token. Recording and rendering live in `runtime::metrics`.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::middleware::Next;
use actix_web::{Error, HttpRequest, HttpResponse, web};

use super::api::caller::bearer_value;
use super::error::ApiError;
use crate::domain::policy;
use crate::runtime::metrics;
use crate::state::AppState;

/// Registers `GET /metrics` when metrics are on.
pub fn routes(cfg: &mut web::ServiceConfig, enabled: bool) {
    if enabled {
        cfg.route("/metrics", web::get().to(metrics_get));
    }
}

/// `GET /metrics`
pub async fn metrics_get(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let presented = bearer_value(&req);
    let configured = state.settings.metrics_token.as_ref();
    let exporter = match &state.metrics {
        Some(exporter) if policy::may_read_metrics(configured, presented.as_deref()) => exporter,
        _ => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "authentication_failed",
                "Send the metrics token as `Authorization: Bearer <token>`.",
            )
            .bearer_challenge(presented.is_some().then_some("invalid_token"), None));
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8"))
        .body(exporter.render(&state.db, &state.auditor)))
}

/// Middleware: counts each request by route pattern (never the path), method and status, and
/// times it.
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let route = metrics::route_label(req.match_pattern());
    let method = metrics::method_label(req.method().as_str());
    let out = next.call(req).await;
    let status = match &out {
        Ok(res) => res.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    metrics::http_request(route, method, status.as_u16(), started.elapsed());
    out
}
