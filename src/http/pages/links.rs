//! What the pages opened by mailed links share: the one refusal page for a link that does not
//! work (unknown, used, expired or replaced alike), and `Cache-Control: no-store` on every
//! response that carries a link's token, so no cache keeps it.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use askama::Template;
use serde::Deserialize;

use super::auth::html;
use crate::error::AppError;
use crate::http::session::Layout;

/// `templates/link_refused.html`.
#[derive(Template)]
#[template(path = "link_refused.html")]
struct LinkRefusedPage {
    layout: Layout,
    /// A password-reset link (otherwise an address confirmation link).
    reset: bool,
}

/// Query of a page a mailed link opens.
#[derive(Deserialize)]
pub struct LinkQuery {
    /// The link's token; a missing one is a link that does not work.
    #[serde(default)]
    pub token: String,
}

/// The refusal for a link that does not work; which way it fails is not said.
pub fn refused(layout: Layout, reset: bool) -> Result<HttpResponse, AppError> {
    no_store(html(
        StatusCode::BAD_REQUEST,
        &LinkRefusedPage { layout, reset },
    )?)
}

/// `res` with `Cache-Control: no-store`.
pub fn no_store(mut res: HttpResponse) -> Result<HttpResponse, AppError> {
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}
