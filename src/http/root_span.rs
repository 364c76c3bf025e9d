//! The root span of every request (method, route, request id) and the one log line a failed
//! request writes: its status and error, inside that span so the line carries the request id.
//! tracing-actix-web's default span also carries host, scheme, HTTP version, user agent, client
//! address, target and OpenTelemetry names; the text formatter renders every field of a span as
//! it opens, which cost more than the rest of the work on the cheapest endpoints. Client
//! addresses and user agents are in the audit log where they matter.
//!
//! The error responders (`http::error`, `http::oauth::error`) log nothing themselves: they keep
//! an internal error's source chain for this line, so each failure is logged exactly once.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};

use super::error::{ApiError, PageError};
use super::oauth::error::OAuthError;

/// The lean root span.
pub struct LeanRootSpan;

impl RootSpanBuilder for LeanRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request.extensions().get::<RequestId>().copied();
        // The route pattern, never the path: a path holds whatever the caller sent.
        let route = request.match_pattern();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = route.as_deref().unwrap_or("unmatched"),
            request_id = request_id.map(tracing::field::display),
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let (status, error) = match outcome {
            Ok(response) => match response.response().error() {
                Some(error) => (response.status(), error),
                None => return,
            },
            Err(error) => (error.as_response_error().status_code(), error),
        };
        // A redirect carrying an error (to the sign-in page) is no failure.
        if status.as_u16() >= 400 {
            log_failure(&span, status, error);
        }
    }
}

/// The one line of a failed request: warning for a refusal (4xx), error for a failure (5xx).
/// The error is written with `Debug`, so whatever of the request it quotes is escaped and
/// cannot start a line of its own.
fn log_failure(span: &Span, status: StatusCode, error: &Error) {
    let detail = cause(error).unwrap_or_else(|| error.to_string());
    let status = status.as_u16();
    if status >= 500 {
        tracing::error!(parent: span, status, error = ?detail, "request failed");
    } else {
        tracing::warn!(parent: span, status, error = ?detail, "request failed");
    }
}

/// The source chain an error responder kept for the log (internal errors only).
fn cause(error: &Error) -> Option<String> {
    if let Some(e) = error.as_error::<ApiError>() {
        return e.cause().map(str::to_owned);
    }
    if let Some(e) = error.as_error::<PageError>() {
        return e.cause();
    }
    error
        .as_error::<OAuthError>()
        .and_then(|e| e.cause().map(str::to_owned))
}
