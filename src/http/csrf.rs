//! Anti-CSRF: a random token per session (synchronizer-token pattern), embedded in every form as
//! `csrf_token` and checked in constant time before a handler runs. `CsrfForm<T>` is the only way
//! page handlers read a form body, so no state-changing form can skip the check.

use std::future::Future;
use std::pin::Pin;

use actix_session::{Session, SessionExt};
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest, dev::Payload};
use serde::de::DeserializeOwned;

use super::error::PageError;
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
