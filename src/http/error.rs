//! `AppError` mapped to HTTP, once, for each kind of caller:
//! - `PageError` renders `error.html` (or sends a signed-out person to the sign-in page);
//! - `ApiError` answers the REST shape `{"error":{"code","message","status"}}`.
//!
//! Internal errors keep their source chain for the request's one log line (`http::root_span`
//! writes it), and never show it.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use serde_json::json;

use super::request_id;
use crate::error::{AppError, UNAVAILABLE_RETRY_AFTER_SECS};

/// An internal error's whole source chain, for the log line.
fn chain(err: &anyhow::Error) -> String {
    format!("{err:#}")
}

/// Error of a browser-facing page.
#[derive(Debug)]
pub enum PageError {
    /// A domain or storage error.
    App(AppError),
    /// Not signed in: go to the sign-in page, then come back to `return_to`.
    SignInRequired {
        /// Same-site path to return to after signing in.
        return_to: String,
    },
    /// A form arrived without a valid anti-CSRF token.
    Csrf,
    /// A request this server does not understand.
    BadRequest(String),
}

impl PageError {
    /// What the log line should say beyond the page: an internal error's source chain.
    pub fn cause(&self) -> Option<String> {
        match self {
            Self::App(AppError::Internal(e) | AppError::Unavailable(e)) => Some(chain(e)),
            _ => None,
        }
    }
}

impl From<AppError> for PageError {
    fn from(err: AppError) -> Self {
        Self::App(err)
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::App(e) => e.fmt(f),
            Self::SignInRequired { .. } => f.write_str("sign-in required"),
            Self::Csrf => f.write_str("invalid or missing CSRF token"),
            Self::BadRequest(m) => f.write_str(m),
        }
    }
}

/// `templates/error.html`.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
    request_id: String,
}

/// Renders the friendly error page.
pub fn error_page(status: StatusCode, title: &str, message: &str) -> HttpResponse {
    let page = ErrorPage {
        status: status.as_u16(),
        title,
        message,
        request_id: request_id::current().unwrap_or_default(),
    };
    match page.render() {
        Ok(body) => HttpResponse::build(status)
            .content_type(ContentType::html())
            .body(body),
        Err(_) => HttpResponse::build(status).body(message.to_owned()),
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::App(e) => app_status(e),
            Self::SignInRequired { .. } => StatusCode::SEE_OTHER,
            Self::Csrf => StatusCode::FORBIDDEN,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            Self::SignInRequired { return_to } => {
                let target = format!(
                    "/signin?{}",
                    serde_urlencoded::to_string([("return_to", return_to)]).unwrap_or_default()
                );
                HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, target))
                    .finish()
            }
            Self::Csrf => error_page(
                status,
                "Form expired",
                "This form could not be verified. Go back, reload the page and try again.",
            ),
            Self::BadRequest(m) => error_page(status, "Bad request", m),
            Self::App(AppError::Internal(_)) => error_page(
                status,
                "Something went wrong",
                "The server could not complete this request. Try again in a moment.",
            ),
            Self::App(AppError::Busy { retry_after_secs }) => {
                let mut res = error_page(status, title_for(status), &self.to_string());
                insert_retry_after(&mut res, *retry_after_secs);
                res
            }
            Self::App(AppError::Unavailable(_)) => unavailable_page(),
            Self::App(e) => error_page(status, title_for(status), &e.to_string()),
        }
    }
}

fn title_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::UNAUTHORIZED => "Sign-in failed",
        StatusCode::CONFLICT => "Already exists",
        StatusCode::SERVICE_UNAVAILABLE => "Server busy",
        _ => "Something is not right",
    }
}

fn app_status(err: &AppError) -> StatusCode {
    match err {
        AppError::Validation { .. } | AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        AppError::Forbidden(_) | AppError::InsufficientScope(_) => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Conflict(_) => StatusCode::CONFLICT,
        AppError::Busy { .. } | AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The error page for a request the server could not serve because its database cannot be
/// reached: 503 with `Retry-After` (RFC 9110 §15.6.4), so the person knows to try again.
pub fn unavailable_page() -> HttpResponse {
    let mut res = error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Temporarily unavailable",
        &AppError::Unavailable(anyhow::anyhow!("")).to_string(),
    );
    insert_retry_after(&mut res, UNAVAILABLE_RETRY_AFTER_SECS);
    res
}

/// Sets `Retry-After` (RFC 9110 §10.2.3) in seconds.
pub fn insert_retry_after(res: &mut HttpResponse, secs: u64) {
    res.headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
}

/// Error of the REST API: `{"error":{"code","message","status"}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// Each bad field of a 422 and what is wrong with it.
    fields: Vec<(&'static str, String)>,
    headers: Vec<(&'static str, String)>,
    /// An internal error's source chain: logged, never sent.
    cause: Option<String>,
}

impl ApiError {
    /// An error with an explicit status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            fields: Vec::new(),
            headers: Vec::new(),
            cause: None,
        }
    }

    /// What the log line should say beyond the body: an internal error's source chain.
    pub fn cause(&self) -> Option<&str> {
        self.cause.as_deref()
    }

    /// Adds the rate-limit headers (and `Retry-After` when refused).
    pub fn with_rate(mut self, rate: crate::runtime::throttle::RateState) -> Self {
        self.headers
            .extend(crate::http::api::caller::rate_header_values(&rate));
        self
    }

    /// Adds `Retry-After`.
    pub fn retry_after(mut self, secs: i64) -> Self {
        self.headers.push(("retry-after", secs.to_string()));
        self
    }

    /// Adds an RFC 6750 §3 `WWW-Authenticate: Bearer` challenge: bare when no token was sent,
    /// else with `error` (`invalid_token`, `insufficient_scope`), a description and, for a
    /// missing scope, the scope needed. OAuth client libraries read it to tell an expired or
    /// revoked token from any other refusal.
    pub fn bearer_challenge(mut self, error: Option<&str>, scope: Option<&str>) -> Self {
        let mut value = format!("Bearer realm=\"{REALM}\"");
        if let Some(error) = error {
            // A quoted-string may not hold `"` or `\`; the messages are ours, but be safe.
            let description: String = self
                .message
                .chars()
                .filter(|c| !matches!(c, '"' | '\\') && !c.is_control())
                .collect();
            value.push_str(&format!(
                ", error=\"{error}\", error_description=\"{description}\""
            ));
        }
        if let Some(scope) = scope {
            value.push_str(&format!(", scope=\"{scope}\""));
        }
        self.headers.push(("www-authenticate", value));
        self
    }
}

impl ApiError {
    /// An error of a JSON endpoint that a page's script calls with the browser session (not a
    /// bearer token): the house shape, without the bearer challenge, which would name a way of
    /// authenticating this endpoint does not take.
    pub fn for_browser(err: AppError) -> Self {
        let mut api = Self::from(err);
        api.headers.retain(|(name, _)| *name != "www-authenticate");
        api
    }
}

/// The protection space named in bearer challenges.
pub const REALM: &str = "portcullis";

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        let status = app_status(&err);
        let mut headers = Vec::new();
        let (code, field, cause) = match &err {
            AppError::Validation { .. } | AppError::Invalid(_) => {
                ("validation_failed", Some(()), None)
            }
            AppError::Unauthenticated(_) => ("authentication_failed", None, None),
            AppError::Forbidden(_) | AppError::InsufficientScope(_) => {
                ("insufficient_permissions", None, None)
            }
            AppError::NotFound(_) => ("not_found", None, None),
            AppError::Conflict(_) => ("conflict", None, None),
            AppError::Busy { retry_after_secs } => {
                headers.push(("retry-after", retry_after_secs.to_string()));
                ("server_busy", None, None)
            }
            AppError::Unavailable(e) => {
                headers.push(("retry-after", UNAVAILABLE_RETRY_AFTER_SECS.to_string()));
                ("unavailable", None, Some(chain(e)))
            }
            AppError::Internal(e) => ("internal_error", None, Some(chain(e))),
        };
        let fields = field
            .map(|()| {
                err.fields()
                    .into_iter()
                    .map(|(f, m)| (f, m.to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let api = Self {
            status,
            code,
            message: err.to_string(),
            fields,
            headers,
            cause,
        };
        // Every REST route that refuses this way is bearer-protected (RFC 6750 §3).
        match err {
            AppError::Unauthenticated(_) => api.bearer_challenge(Some("invalid_token"), None),
            AppError::Forbidden(_) => api.bearer_challenge(Some("insufficient_scope"), None),
            AppError::InsufficientScope(scope) => {
                api.bearer_challenge(Some("insufficient_scope"), Some(scope))
            }
            _ => api,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut error = json!({
            "code": self.code,
            "message": self.message,
            "status": self.status.as_u16(),
        });
        if !self.fields.is_empty() {
            let fields: serde_json::Map<String, serde_json::Value> = self
                .fields
                .iter()
                .map(|(f, m)| ((*f).to_owned(), json!(m)))
                .collect();
            error["fields"] = serde_json::Value::Object(fields);
        }
        if let Some(id) = request_id::current() {
            error["request_id"] = json!(id);
        }
        let mut res = HttpResponse::build(self.status);
        res.insert_header((header::CACHE_CONTROL, "no-store"));
        for (name, value) in &self.headers {
            res.insert_header((*name, value.as_str()));
        }
        res.json(json!({ "error": error }))
    }
}

/// JSON bodies that fail to parse answer in the house shape: 422 `validation_failed` when the
/// JSON is well-formed but of the wrong shape, 400 `invalid_request` otherwise.
pub fn json_config() -> actix_web::web::JsonConfig {
    actix_web::web::JsonConfig::default()
        .limit(64 * 1024)
        .error_handler(|err, _req| {
            use actix_web::error::JsonPayloadError;
            let api = match &err {
                JsonPayloadError::Deserialize(e) if e.is_data() => ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    format!("Invalid request body: {e}"),
                ),
                JsonPayloadError::ContentType => ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "invalid_request",
                    "Send the body as application/json.",
                ),
                other => ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    format!("The body is not valid JSON: {other}"),
                ),
            };
            api.into()
        })
}

/// Query strings that fail to parse answer 400 in the house shape.
pub fn query_config() -> actix_web::web::QueryConfig {
    actix_web::web::QueryConfig::default().error_handler(|err, _req| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("Bad query string: {err}"),
        )
        .into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_server_answers_503_with_retry_after_in_both_shapes() {
        let busy = || AppError::Busy {
            retry_after_secs: 2,
        };
        let page = PageError::from(busy()).error_response();
        assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(page.headers().get(header::RETRY_AFTER).unwrap(), "2");

        let api = ApiError::from(busy());
        assert_eq!(api.code, "server_busy");
        let res = api.error_response();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "2");
    }

    #[test]
    fn an_unreachable_database_answers_503_with_retry_after_and_keeps_the_cause_for_the_log() {
        let down = || AppError::Unavailable(anyhow::anyhow!("connection refused"));
        let page = PageError::from(down());
        assert_eq!(page.cause().as_deref(), Some("connection refused"));
        let res = page.error_response();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(res.headers().contains_key(header::RETRY_AFTER));

        let api = ApiError::from(down());
        assert_eq!(api.code, "unavailable");
        assert_eq!(api.cause(), Some("connection refused"));
        assert!(
            !api.message.contains("refused"),
            "the cause stays out of the body"
        );
        let res = api.error_response();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(res.headers().contains_key(header::RETRY_AFTER));
        assert!(!res.headers().contains_key(header::WWW_AUTHENTICATE));
    }
}
