//! `GET /signout`: a link or a typed address that signs out asks first, with a button that
//! posts the CSRF-protected form (`auth::signout_post`). Signing out on a GET would let any
//! page sign a person out with an `<img>`.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;

use super::auth::html;
use super::see_other;
use crate::http::error::PageError;
use crate::http::session::{Layout, MaybeUser};

/// `templates/signout.html`.
#[derive(Template)]
#[template(path = "signout.html")]
pub struct SignOutPage {
    layout: Layout,
}

/// `GET /signout`: the confirmation, or straight to sign-in for someone already signed out.
pub async fn signout_get(MaybeUser(layout): MaybeUser) -> Result<HttpResponse, PageError> {
    if layout.user.is_none() {
        return Ok(see_other("/signin"));
    }
    Ok(html(StatusCode::OK, &SignOutPage { layout })?)
}
