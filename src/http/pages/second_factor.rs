//! `/signin/second-factor`: the second step of signing in, and step-up for a session an app
//! needs more from. The pending state and its completion live in `domain::factors::signin` and
//! `session::{hold_pending, finish_second_factor}`; this page only asks for the proof of the
//! method chosen (an authenticator code, or a recovery code).

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::html;
use super::see_other;
use crate::domain::auth_methods::AuthMethod;
use crate::domain::factors::recovery::FEW_LEFT;
use crate::domain::factors::signin::{self, SecondFactorRefused};
use crate::http::csrf::CsrfForm;
use crate::http::error::{PageError, insert_retry_after};
use crate::http::session::{self, Layout, MaybeUser};
use crate::state::AppState;

/// `templates/second_factor.html`.
#[derive(Template)]
#[template(path = "second_factor.html")]
pub struct SecondFactorPage {
    layout: Layout,
    recovery: bool,
    step_up: bool,
    error: Option<String>,
}

/// `templates/recovery_warning.html`: shown after a recovery code, when few are left.
#[derive(Template)]
#[template(path = "recovery_warning.html")]
pub struct RecoveryWarningPage {
    layout: Layout,
    left: u64,
    next: String,
}

/// Query of `GET /signin/second-factor`.
#[derive(Deserialize)]
pub struct Choice {
    /// `recovery_code` to type a recovery code instead of an app's code.
    method: Option<String>,
}

/// `GET /signin/second-factor`: the form, while a sign-in or step-up is pending (else back to
/// sign in).
pub async fn second_factor_get(
    MaybeUser(layout): MaybeUser,
    query: web::Query<Choice>,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let Some((pending, _)) = session::pending(&session) else {
        return Ok(see_other("/signin"));
    };
    if !pending.is_live(state.ctx.now()) {
        session::update_pending(&session, &pending, true)?;
        return Ok(see_other("/signin"));
    }
    let page = SecondFactorPage {
        layout,
        recovery: query.method.as_deref() == Some("recovery_code"),
        step_up: pending.step_up,
        error: None,
    };
    Ok(html(StatusCode::OK, &page)?)
}

/// Form of `POST /signin/second-factor`.
#[derive(Deserialize)]
pub struct ProofForm {
    method: AuthMethod,
    code: String,
}

/// `POST /signin/second-factor`: completes the pending sign-in or step-up with the code, then
/// continues where the sign-in was going.
pub async fn second_factor_post(
    CsrfForm(form): CsrfForm<ProofForm>,
    MaybeUser(layout): MaybeUser,
    session: Session,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let Some((mut pending, return_to)) = session::pending(&session) else {
        return Ok(see_other("/signin"));
    };
    let ip = crate::http::meta::client_ip(&req);
    // At most a recovery code's worth of characters is ever looked at.
    let code = crate::domain::bounded::truncate(&form.code, 64);
    let outcome = signin::finish(
        &state.ctx,
        &state.signin_throttle,
        ip,
        &mut pending,
        form.method,
        code,
    )
    .await?;
    let recovery = form.method == AuthMethod::RecoveryCode;
    let refused = |layout, status, message: String| {
        let page = SecondFactorPage {
            layout,
            recovery,
            step_up: pending.step_up,
            error: Some(message),
        };
        html(status, &page)
    };
    match outcome {
        Ok(proven) => {
            let now = state.ctx.now();
            session::finish_second_factor(
                &session,
                &proven.user,
                now,
                &proven.methods,
                pending.step_up,
            )?;
            tracing::info!(user_id = %proven.user.id, "second factor accepted");
            let next = if return_to.is_empty() {
                "/account".to_owned()
            } else {
                return_to
            };
            match proven.recovery_left {
                Some(left) if left <= FEW_LEFT => {
                    // The sign-in rotated the form token: the page shows the new one.
                    let layout = Layout::for_session(&session, &state, Some(proven.user)).await?;
                    let page = RecoveryWarningPage { layout, left, next };
                    Ok(html(StatusCode::OK, &page)?)
                }
                _ => Ok(see_other(&next)),
            }
        }
        Err(SecondFactorRefused::Incorrect(message)) => {
            session::update_pending(&session, &pending, false)?;
            Ok(refused(layout, StatusCode::UNAUTHORIZED, message)?)
        }
        Err(SecondFactorRefused::Throttled { wait_secs }) => {
            let message = format!(
                "Too many failed attempts. Try again in {} minute(s).",
                (wait_secs + 59) / 60
            );
            let mut res = refused(layout, StatusCode::TOO_MANY_REQUESTS, message)?;
            insert_retry_after(&mut res, u64::try_from(wait_secs).unwrap_or(1));
            Ok(res)
        }
        Err(SecondFactorRefused::Ended) => {
            session::update_pending(&session, &pending, true)?;
            Ok(see_other("/signin"))
        }
    }
}
