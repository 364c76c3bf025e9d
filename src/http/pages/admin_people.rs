//! Admin → People: every account, a form per person to mark their email address verified or
//! not (`domain::people`) and to reset their second factors, and the switch that requires a
//! second factor of everyone (`domain::factors`). Every form is CSRF-protected; the domain
//! refuses everyone but server administrators.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::html;
use super::see_other;
use super::settings::date;
use crate::domain::context::Actor;
use crate::domain::factors;
use crate::domain::people::{self, Person};
use crate::http::csrf::CsrfForm;
use crate::http::error::PageError;
use crate::http::session::{CurrentUser, Layout};
use crate::state::AppState;

/// One person as the page shows them.
pub struct PersonRow {
    id: String,
    name: String,
    email: String,
    email_verified: bool,
    is_admin: bool,
    created: String,
}

/// `templates/admin_people.html`.
#[derive(Template)]
#[template(path = "admin_people.html")]
pub struct PeoplePage {
    layout: Layout,
    people: Vec<PersonRow>,
    second_factor_required: bool,
}

/// `GET /admin/people`
pub async fn people_get(
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let (people, second_factor_required) =
        people::list_with_policy(&state.ctx, Actor::User(&current.user)).await?;
    let people = people
        .into_iter()
        .map(|u| PersonRow {
            created: date(u.created_at),
            id: u.id,
            name: u.name,
            email: u.email,
            email_verified: u.email_verified,
            is_admin: u.is_admin,
        })
        .collect();
    let page = PeoplePage {
        layout: current.layout,
        people,
        second_factor_required,
    };
    Ok(html(StatusCode::OK, &page)?)
}

/// The mark-verified form: `verified` is `true` or `false`.
#[derive(Deserialize)]
pub struct VerifiedForm {
    #[serde(default)]
    verified: String,
}

/// `POST /admin/people/{user_id}/email-verified`
pub async fn email_verified_post(
    CsrfForm(form): CsrfForm<VerifiedForm>,
    user_id: web::Path<String>,
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let by = Actor::User(&current.user);
    // Anything but `true` marks the address not verified: the safe reading of a bad form.
    let verified = form.verified == "true";
    people::set_email_verified(&state.ctx, by, Person::Id(&user_id), verified).await?;
    Ok(see_other("/admin/people"))
}

/// `POST /admin/people/{user_id}/reset-factors`: removes the person's second factors.
pub async fn reset_factors_post(
    _: CsrfForm<super::EmptyForm>,
    user_id: web::Path<String>,
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    factors::reset(&state.ctx, Actor::User(&current.user), &user_id).await?;
    Ok(see_other("/admin/people"))
}

/// The requirement form: `required` is `true` or `false`.
#[derive(Deserialize)]
pub struct RequiredForm {
    #[serde(default)]
    required: String,
}

/// `POST /admin/second-factor-required`: requires a second factor of everyone, or stops.
pub async fn second_factor_required_post(
    CsrfForm(form): CsrfForm<RequiredForm>,
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let required = form.required == "true";
    factors::set_second_factor_required(&state.ctx, Actor::User(&current.user), required).await?;
    Ok(see_other("/admin/people"))
}
