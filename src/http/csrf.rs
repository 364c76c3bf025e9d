//! Anti-CSRF: a random token per session (synchronizer-token pattern), embedded in every form as
//! `csrf_token` and checked in constant time before a handler runs. `CsrfForm<T>` is the only way
//! page handlers read a form body, so no state-changing form can skip the check; `CsrfJson<T>`
//! is its counterpart for the JSON a page's script posts, with the token in `X-CSRF-Token`.

use std::future::Future;
use std::pin::Pin;

use actix_session::{Session, SessionExt};
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest, dev::Payload};
use serde::de::DeserializeOwned;

use super::error::{ApiError, PageError};
use crate::secret::{CsrfToken, random_token};

const KEY: &str = "csrf";
/// Name of the hidden form field.
pub const FIELD: &str = "csrf_token";

/// The session's token, created on first use.
pub fn token(session: &Session) -> Result<CsrfToken, PageError> {
    if let Ok(Some(existing)) = session.get::<String>(KEY) {
        return Ok(CsrfToken::new(existing));
    }
    rotate(session)
}

/// Replaces the session's token (at sign-in, so a token seen before does not outlive it).
pub fn rotate(session: &Session) -> Result<CsrfToken, PageError> {
    let fresh = random_token::<32>();
    session
        .insert(KEY, &fresh)
        .map_err(|e| PageError::App(crate::error::AppError::internal(anyhow::anyhow!("{e}"))))?;
    Ok(CsrfToken::new(fresh))
}

/// Whether `presented` is this session's token.
pub fn verify(session: &Session, presented: Option<&str>) -> bool {
    match (session.get::<String>(KEY).ok().flatten(), presented) {
        (Some(expected), Some(presented)) => CsrfToken::new(expected).matches(presented),
        _ => false,
    }
}

/// A URL-encoded form whose `csrf_token` field has been checked against the session.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let session = req.get_session();
        let body = Bytes::from_request(req, payload);
        Box::pin(async move {
            let body = body
                .await
                .map_err(|_| PageError::BadRequest("The form could not be read.".into()))?;
            let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
                .map_err(|_| PageError::BadRequest("The form could not be read.".into()))?;
            let presented = fields
                .iter()
                .find(|(k, _)| k == FIELD)
                .map(|(_, v)| v.as_str());
            if !verify(&session, presented) {
                return Err(PageError::Csrf);
            }
            // serde_html_form reads repeated fields (checkbox groups) into a Vec.
            serde_html_form::from_bytes(&body)
                .map(CsrfForm)
                .map_err(|_| PageError::BadRequest("The form is missing a field.".into()))
        })
    }
}

/// Header in which a page's script sends the session's token.
pub const HEADER: &str = "x-csrf-token";

/// Largest JSON body a page's script may post: a passkey credential, with its client data and
/// attestation, fits in a few kilobytes.
pub const JSON_LIMIT: usize = 16 * 1024;

/// A JSON body posted by a page's script, whose `X-CSRF-Token` header has been checked against
/// the session before the body is read. Bodies over `JSON_LIMIT` bytes are refused (`413`),
/// and every refusal answers in the REST API's shape.
pub struct CsrfJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for CsrfJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        use actix_web::http::StatusCode;
        let presented = req
            .headers()
            .get(HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if !verify(&req.get_session(), presented.as_deref()) {
            let refused = ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf_failed",
                "This request could not be verified. Reload the page and try again.",
            );
            return Box::pin(async move { Err(refused) });
        }
        let body = Bytes::from_request(req, payload);
        Box::pin(async move {
            let invalid = |message: String| {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
            };
            let body = body
                .await
                .map_err(|_| invalid("The body could not be read.".into()))?;
            if body.len() > JSON_LIMIT {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!("The body is larger than {JSON_LIMIT} bytes."),
                ));
            }
            serde_json::from_slice(&body).map(CsrfJson).map_err(|e| {
                if e.is_data() {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "validation_failed",
                        format!("Invalid request body: {e}"),
                    )
                } else {
                    invalid(format!("The body is not valid JSON: {e}"))
                }
            })
        })
    }
}
