//! Account → Delete account: a person removes their own account, with their current password
//! and their email address typed (`domain::account_removal::delete_own`), and is signed out.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::html;
use super::see_other;
use crate::domain::account_removal;
use crate::domain::accounts::SignInRefused;
use crate::error::AppError;
use crate::http::csrf::CsrfForm;
use crate::http::error::{PageError, insert_retry_after};
use crate::http::session::{CurrentUser, Layout};
use crate::secret::Password;
use crate::state::AppState;

/// `templates/account_delete.html`.
#[derive(Template)]
#[template(path = "account_delete.html")]
pub struct DeleteAccountPage {
    layout: Layout,
    error: Option<String>,
}

/// Form of `POST /account/delete`.
#[derive(Deserialize)]
pub struct DeleteAccountForm {
    current_password: Password,
    #[serde(default)]
    confirm_email: String,
}

fn page(
    layout: Layout,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    Ok(html(status, &DeleteAccountPage { layout, error })?)
}

/// `GET /account/delete`
pub async fn delete_get(current: CurrentUser) -> Result<HttpResponse, PageError> {
    page(current.layout, StatusCode::OK, None)
}

/// `POST /account/delete`: signs out and goes to the sign-in page once the account is gone;
/// otherwise the form again with the reason (422 mistyped address, 401 wrong password, 409 the
/// last administrator of the server or of a tenant, 429 throttled, 503 busy).
pub async fn delete_post(
    CsrfForm(form): CsrfForm<DeleteAccountForm>,
    current: CurrentUser,
    session: Session,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let outcome = account_removal::delete_own(
        &state.ctx,
        &state.signin_throttle,
        crate::http::meta::client_ip(&req),
        &current.user,
        form.current_password,
        &form.confirm_email,
    )
    .await;
    let layout = current.layout;
    let (status, message, retry) = match outcome {
        Ok(Ok(())) => {
            session.purge();
            return Ok(see_other("/signin"));
        }
        Err(e @ AppError::Validation { .. }) => {
            (StatusCode::UNPROCESSABLE_ENTITY, e.to_string(), None)
        }
        Err(e @ AppError::Conflict(_)) => (StatusCode::CONFLICT, e.to_string(), None),
        Err(other) => return Err(other.into()),
        Ok(Err(SignInRefused::Incorrect(m))) => (StatusCode::UNAUTHORIZED, m, None),
        Ok(Err(SignInRefused::Throttled { wait_secs })) => (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many failed attempts. Try again in {} minute(s).",
                (wait_secs + 59) / 60
            ),
            Some(u64::try_from(wait_secs).unwrap_or(1)),
        ),
        Ok(Err(SignInRefused::Busy { retry_after_secs })) => (
            StatusCode::SERVICE_UNAVAILABLE,
            AppError::Busy { retry_after_secs }.to_string(),
            Some(retry_after_secs),
        ),
    };
    let mut res = page(layout, status, Some(message))?;
    if let Some(secs) = retry {
        insert_retry_after(&mut res, secs);
    }
    Ok(res)
}
