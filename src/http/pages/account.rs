//! The account page (with the invitations waiting for the person), accepting and declining an
//! invitation, and the root redirect.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use crate::domain::credentials::format_time;
use crate::domain::membership::{self, Pending};
use crate::domain::principal::Principal;
use crate::http::auth::{CurrentUser, Layout, MaybeUser};
use crate::http::csrf::CsrfForm;
use crate::http::error::PageError;
use crate::state::AppState;

/// `templates/account.html`.
#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
pub struct AccountPage {
    layout: Layout,
    member_since: String,
    invitations: Vec<(Pending, String)>,
}

fn date(at: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!("[year]-[month]-[day]"))
                .ok()
        })
        .unwrap_or_default()
}

/// `GET /account`
pub async fn account_get(
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<AccountPage, PageError> {
    let invitations =
        membership::pending_for(state.membership(), &Principal::session(&current.user))
            .await?
            .into_iter()
            .map(|p| {
                let expires = format_time(p.invitation.expires_at);
                (p, expires)
            })
            .collect();
    Ok(AccountPage {
        member_since: date(current.user.created_at),
        layout: current.layout,
        invitations,
    })
}

/// Form with only the CSRF token.
#[derive(Deserialize)]
pub struct Empty {}

/// `POST /account/invitations/{id}/accept`: the person joins the tenant with the invited role.
pub async fn invitation_accept_post(
    _: CsrfForm<Empty>,
    id: web::Path<String>,
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    membership::accept(state.membership(), &Principal::session(&current.user), &id).await?;
    Ok(see_other("/account"))
}

/// `POST /account/invitations/{id}/decline`
pub async fn invitation_decline_post(
    _: CsrfForm<Empty>,
    id: web::Path<String>,
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    membership::decline(state.membership(), &Principal::session(&current.user), &id).await?;
    Ok(see_other("/account"))
}

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

/// `GET /`: the account page for the signed-in, the sign-in page for everyone else.
pub async fn home_get(MaybeUser(layout): MaybeUser) -> HttpResponse {
    let to = if layout.user.is_some() {
        "/account"
    } else {
        "/signin"
    };
    see_other(to)
}
