//! The account page and the root redirect.

use actix_web::HttpResponse;
use actix_web::http::header;
use askama::Template;
use askama_web::WebTemplate;

use crate::http::auth::{CurrentUser, Layout, MaybeUser};

/// `templates/account.html`.
#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
pub struct AccountPage {
    layout: Layout,
    member_since: String,
}

/// `GET /account`
pub async fn account_get(current: CurrentUser) -> AccountPage {
    let member_since = time::OffsetDateTime::from_unix_timestamp(current.user.created_at)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!("[year]-[month]-[day]"))
                .ok()
        })
        .unwrap_or_default();
    AccountPage {
        layout: current.layout,
        member_since,
    }
}

/// `GET /`: the account page for the signed-in, the sign-in page for everyone else.
pub async fn home_get(MaybeUser(layout): MaybeUser) -> HttpResponse {
    let to = if layout.user.is_some() {
        "/account"
    } else {
        "/signin"
    };
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}
