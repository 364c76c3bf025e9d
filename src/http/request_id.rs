//! Per-request id: taken from tracing-actix-web's root span, exposed as `X-Request-Id` and kept in
//! a task-local so error responders (which never see the request) can print it on the page and in
//! the JSON error body, matching the log line.

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing_actix_web::RequestId;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled, if called inside one.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Middleware: runs the rest of the chain inside the request-id scope and echoes the id.
pub async fn scope(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req
        .extensions()
        .get::<RequestId>()
        .map(ToString::to_string)
        .unwrap_or_else(|| crate::secret::unordered_uuid_v7().to_string());
    let meta = crate::http::meta::meta(req.request());
    let mut res = REQUEST_ID
        .scope(
            id.clone(),
            crate::domain::audit::with_meta(meta, next.call(req)),
        )
        .await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(res)
}
