//! Admin → Users, the forms that concern a person's email address and second factors: marking
//! the address verified or not (`domain::people`), resetting their second factors, and the
//! switch that requires a second factor of everyone (`domain::factors`). The page itself is
//! `admin_users`. Every form is CSRF-protected; the domain refuses everyone but server
//! administrators.

use actix_session::Session;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::see_other;
use crate::domain::context::Actor;
use crate::domain::factors;
use crate::domain::people::{self, Person};
use crate::http::csrf::CsrfForm;
use crate::http::error::PageError;
use crate::http::layout::flash;
use crate::http::session::CurrentUser;
use crate::state::AppState;

/// The mark-verified form: `verified` is `true` or `false`.
#[derive(Deserialize)]
pub struct VerifiedForm {
    #[serde(default)]
    verified: String,
}

/// `POST /admin/users/{user_id}/email-verified`
pub async fn email_verified_post(
    CsrfForm(form): CsrfForm<VerifiedForm>,
    user_id: web::Path<String>,
    current: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    let by = Actor::User(&current.user);
    // Anything but `true` marks the address not verified: the safe reading of a bad form.
    let verified = form.verified == "true";
    people::set_email_verified(&state.ctx, by, Person::Id(&user_id), verified).await?;
    flash(&session, "Email verification saved.")?;
    Ok(see_other("/admin/users"))
}

/// `POST /admin/users/{user_id}/reset-factors`: removes the person's second factors.
pub async fn reset_factors_post(
    _: CsrfForm<super::EmptyForm>,
    user_id: web::Path<String>,
    current: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    factors::reset(&state.ctx, Actor::User(&current.user), &user_id).await?;
    flash(
        &session,
        "Second factors reset: the next sign-in takes the password alone.",
    )?;
    Ok(see_other("/admin/users"))
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
    session: Session,
) -> Result<HttpResponse, PageError> {
    let required = form.required == "true";
    factors::set_second_factor_required(&state.ctx, Actor::User(&current.user), required).await?;
    flash(&session, "Second-factor requirement saved.")?;
    Ok(see_other("/admin/users"))
}
