//! "Forgot password?": the form that mails a reset link, and the page the link opens. The
//! answer to the form is the same whether the address has an account or not. Without mail the
//! page says to ask an administrator instead of offering a form.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::html;
use super::links::{self, LinkQuery};
use crate::domain::password_reset::{self, NewPassword, ResetRefused};
use crate::error::AppError;
use crate::http::csrf::CsrfForm;
use crate::http::error::{PageError, insert_retry_after};
use crate::http::session::{Layout, MaybeUser};
use crate::secret::Password;
use crate::state::AppState;

/// `templates/forgot_password.html`.
#[derive(Template)]
#[template(path = "forgot_password.html")]
struct ForgotPage {
    layout: Layout,
    mail_on: bool,
    sent: bool,
    error: Option<String>,
}

/// `templates/reset_password.html`.
#[derive(Template)]
#[template(path = "reset_password.html")]
struct ResetPage {
    layout: Layout,
    token: String,
    done: bool,
    error: Option<String>,
}

/// `GET /forgot-password`
pub async fn forgot_get(
    MaybeUser(layout): MaybeUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let page = ForgotPage {
        layout,
        mail_on: state.mail_on(),
        sent: false,
        error: None,
    };
    Ok(html(StatusCode::OK, &page)?)
}

/// Form of `POST /forgot-password`.
#[derive(Deserialize)]
pub struct ForgotForm {
    email: String,
}

/// `POST /forgot-password`: one answer for every address (429 with `Retry-After` when asked
/// too often for it or from here).
pub async fn forgot_post(
    CsrfForm(form): CsrfForm<ForgotForm>,
    MaybeUser(layout): MaybeUser,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let ip = crate::http::meta::client_ip(&req);
    let asked = password_reset::request(&state.ctx, &state.mail_throttle, ip, &form.email).await?;
    let mut page = ForgotPage {
        layout,
        mail_on: state.mail_on(),
        sent: true,
        error: None,
    };
    match asked {
        Ok(()) => Ok(html(StatusCode::OK, &page)?),
        Err(wait_secs) => {
            page.sent = false;
            page.error = Some(format!(
                "Too many requests for a link. Try again in {} minute(s).",
                (wait_secs + 59) / 60
            ));
            let mut res = html(StatusCode::TOO_MANY_REQUESTS, &page)?;
            insert_retry_after(&mut res, u64::try_from(wait_secs).unwrap_or(1));
            Ok(res)
        }
    }
}

/// `GET /reset-password?token=…`: the form for a new password, or the refusal.
pub async fn reset_get(
    MaybeUser(layout): MaybeUser,
    query: web::Query<LinkQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    if !password_reset::link_is_valid(&state.ctx, &query.token).await? {
        return Ok(links::refused(layout, true)?);
    }
    let page = ResetPage {
        layout,
        token: query.into_inner().token,
        done: false,
        error: None,
    };
    Ok(links::no_store(html(StatusCode::OK, &page)?)?)
}

/// Form of `POST /reset-password`.
#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    token: String,
    new_password: Password,
    new_password_again: Password,
}

/// `POST /reset-password`: sets the new password (the form again with the reason when the
/// policy refuses it, 503 with `Retry-After` when too many passwords are being hashed).
pub async fn reset_post(
    CsrfForm(form): CsrfForm<ResetForm>,
    MaybeUser(layout): MaybeUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let input = NewPassword {
        new: form.new_password,
        again: form.new_password_again,
    };
    let mut page = ResetPage {
        layout,
        token: String::new(),
        done: false,
        error: None,
    };
    let (status, retry) = match password_reset::reset(&state.ctx, &form.token, input).await {
        Ok(Ok(_)) => {
            tracing::info!("password reset by mailed link");
            page.done = true;
            (StatusCode::OK, None)
        }
        Ok(Err(ResetRefused::Link)) => return Ok(links::refused(page.layout, true)?),
        Ok(Err(ResetRefused::Busy { retry_after_secs })) => {
            page.error = Some(AppError::Busy { retry_after_secs }.to_string());
            (StatusCode::SERVICE_UNAVAILABLE, Some(retry_after_secs))
        }
        Err(err @ AppError::Validation { .. }) => {
            page.error = Some(err.to_string());
            (StatusCode::UNPROCESSABLE_ENTITY, None)
        }
        Err(other) => return Err(other.into()),
    };
    if !page.done {
        page.token = form.token;
    }
    let mut res = links::no_store(html(status, &page)?)?;
    if let Some(secs) = retry {
        insert_retry_after(&mut res, secs);
    }
    Ok(res)
}
