//! Static assets, compiled into the binary so the server runs from any working directory.

use actix_web::http::header::{CACHE_CONTROL, ContentType};
use actix_web::{HttpResponse, web};

use super::error::PageError;
use crate::error::AppError;

/// Every file under `static/`, with its content type.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/app.js"),
    ),
    (
        "form_post.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/form_post.js"),
    ),
    (
        "recovery_codes.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/recovery_codes.js"),
    ),
    (
        "passkeys.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/passkeys.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../../static/favicon.svg"),
    ),
];

/// `GET /static/{file}`
pub async fn static_get(file: web::Path<String>) -> Result<HttpResponse, PageError> {
    let (_, mime, body) = ASSETS
        .iter()
        .find(|(name, _, _)| *name == file.as_str())
        .ok_or(PageError::App(AppError::NotFound("File")))?;
    Ok(HttpResponse::Ok()
        .insert_header(ContentType(mime.parse().map_err(AppError::internal)?))
        .insert_header((CACHE_CONTROL, "public, max-age=3600"))
        .body(*body))
}
