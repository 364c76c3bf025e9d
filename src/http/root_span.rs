//! The root span of every request: method, route, request id and, once answered, the status
//! (and the error, if any). tracing-actix-web's default span also carries host, scheme, HTTP
//! version, user agent, client address, target and OpenTelemetry names; the text formatter
//! renders every field of a span as it opens, which cost more than the rest of the work on the
//! cheapest endpoints. Client addresses and user agents are in the audit log where they matter.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing::field::Empty;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};

/// The lean root span.
pub struct LeanRootSpan;

impl RootSpanBuilder for LeanRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request.extensions().get::<RequestId>().copied();
        let route = request.match_pattern();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = route.as_deref().unwrap_or("unmatched"),
            request_id = request_id.map(tracing::field::display),
            http.status_code = Empty,
            otel.status_code = Empty,
            exception.message = Empty,
            exception.details = Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        // Records the status, and the error's message and details, into the fields above.
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}
