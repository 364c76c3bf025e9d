//! Delivers an answer to the client (`domain::oauth::ClientReply`): a `303` to the redirect URI
//! with the answer in its query, or, for `response_mode=form_post` (OAuth 2.0 Form Post Response
//! Mode §2), a page whose form the browser posts to the redirect URI. That page runs no inline
//! script, so the CSP stays as strict as everywhere: `/static/form_post.js` submits the form,
//! and its button does it for browsers without script. Also turns oxide-auth's redirect into a
//! `ClientReply`.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue, LOCATION, PRAGMA};
use actix_web::{HttpRequest, HttpResponse, Responder};
use askama::Template;
use oxide_auth_actix::OAuthResponse;
use url::Url;

use crate::domain::oauth::{ClientReply, ResponseMode};
use crate::error::AppError;
use crate::http::error::PageError;
use crate::http::pages::auth::html;
use crate::http::pages::see_other;

/// `templates/form_post.html`: the answer as hidden fields of a form aimed at the client.
#[derive(Template)]
#[template(path = "form_post.html")]
pub struct FormPostPage {
    action: String,
    fields: Vec<(String, String)>,
}

/// Sends `reply` the way it asks to travel.
pub fn send(reply: ClientReply) -> Result<HttpResponse, PageError> {
    match reply.mode {
        ResponseMode::Query => Ok(see_other(reply.url().as_str())),
        ResponseMode::FormPost => {
            let page = FormPostPage {
                action: reply.redirect_uri,
                fields: reply.params,
            };
            let mut res = html(StatusCode::OK, &page)?;
            // The page carries a code: no cache may keep it (Form Post Response Mode §5).
            let headers = res.headers_mut();
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
            Ok(res)
        }
    }
}

/// The answer in oxide-auth's redirect, as RFC 6749 and RFC 9207 want it: `error_description`
/// (oxide-auth says `description`) and this server's `iss`. oxide-auth appends its parameters
/// to the registered redirect URI's own query, so those are skipped: the reply carries only the
/// answer, and `redirect_uri` brings its query along.
pub fn from_flow(
    http: &HttpRequest,
    resp: OAuthResponse,
    redirect_uri: &str,
    mode: ResponseMode,
    issuer: &str,
) -> Result<ClientReply, PageError> {
    let location = resp
        .get_headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let Some(location) = location else {
        let status = resp.respond_to(http).status();
        return Err(AppError::internal(anyhow::anyhow!(
            "authorization flow answered {status} without a redirect"
        ))
        .into());
    };
    let own = Url::parse(redirect_uri)
        .map_err(AppError::internal)?
        .query_pairs()
        .count();
    let url = Url::parse(&location).map_err(AppError::internal)?;
    let mut params: Vec<(String, String)> = url
        .query_pairs()
        .skip(own)
        .map(|(k, v)| {
            let k = if k == "description" {
                "error_description".to_owned()
            } else {
                k.into_owned()
            };
            (k, v.into_owned())
        })
        .filter(|(k, _)| k != "iss")
        .collect();
    params.push(("iss".to_owned(), issuer.to_owned()));
    Ok(ClientReply {
        redirect_uri: redirect_uri.to_owned(),
        params,
        mode,
    })
}
