//! Settings → Password: changing the signed-in person's password. Success signs out every other
//! browser, session token and app (see `accounts::change_password`) and gives this browser's
//! session a new key.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::html;
use crate::domain::accounts::{self, PasswordChange, PasswordChanged, SignInRefused};
use crate::error::AppError;
use crate::http::csrf::CsrfForm;
use crate::http::error::{PageError, insert_retry_after};
use crate::http::session::{self, CurrentUser, Layout};
use crate::secret::Password;
use crate::state::AppState;

/// `templates/password.html`.
#[derive(Template)]
#[template(path = "password.html")]
pub struct PasswordPage {
    layout: Layout,
    error: Option<String>,
    changed: Option<PasswordChanged>,
}

/// Form of `POST /settings/password`.
#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: Password,
    new_password: Password,
    new_password_again: Password,
}

fn page(
    layout: Layout,
    status: StatusCode,
    error: Option<String>,
    changed: Option<PasswordChanged>,
) -> Result<HttpResponse, PageError> {
    let page = PasswordPage {
        layout,
        error,
        changed,
    };
    Ok(html(status, &page)?)
}

/// `GET /settings/password`
pub async fn password_get(current: CurrentUser) -> Result<HttpResponse, PageError> {
    page(current.layout, StatusCode::OK, None, None)
}

/// `POST /settings/password`: the form again with the reason when refused (401 for a wrong
/// current password, 429 with `Retry-After` when throttled, 503 when too many passwords are
/// being checked).
pub async fn password_post(
    CsrfForm(form): CsrfForm<PasswordForm>,
    current: CurrentUser,
    session: Session,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let change = PasswordChange {
        current: form.current_password,
        new: form.new_password,
        again: form.new_password_again,
    };
    let outcome = match accounts::change_password(
        &state.ctx,
        &state.signin_throttle,
        crate::http::meta::client_ip(&req),
        &current.user,
        session::session_id(&session).as_deref(),
        change,
    )
    .await
    {
        Err(err @ AppError::Validation { .. }) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return page(current.layout, status, Some(err.to_string()), None);
        }
        other => other?,
    };
    let layout = current.layout;
    match outcome {
        Ok(changed) => {
            // A new key for this browser: one copied before the change is worth nothing now.
            session.renew();
            tracing::info!(user_id = %current.user.id, "password changed");
            page(layout, StatusCode::OK, None, Some(changed))
        }
        Err(SignInRefused::Incorrect(message)) => {
            page(layout, StatusCode::UNAUTHORIZED, Some(message), None)
        }
        Err(SignInRefused::Throttled { wait_secs }) => {
            let message = format!(
                "Too many failed attempts. Try again in {} minute(s).",
                (wait_secs + 59) / 60
            );
            let mut res = page(layout, StatusCode::TOO_MANY_REQUESTS, Some(message), None)?;
            insert_retry_after(&mut res, u64::try_from(wait_secs).unwrap_or(1));
            Ok(res)
        }
        Err(SignInRefused::Busy { retry_after_secs }) => {
            let message = AppError::Busy { retry_after_secs }.to_string();
            let status = StatusCode::SERVICE_UNAVAILABLE;
            let mut res = page(layout, status, Some(message), None)?;
            insert_retry_after(&mut res, retry_after_secs);
            Ok(res)
        }
    }
}
