//! Settings → Email (the signed-in person's address: change it with the current password, ask
//! for a new confirmation link) and the confirmation page a mailed link opens, whose button
//! confirms: opening the link changes nothing.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::EmptyForm;
use super::auth::html;
use super::links::{self, LinkQuery};
use crate::domain::accounts::SignInRefused;
use crate::domain::bounded;
use crate::domain::email_verification::{self, EmailChange, ResendRefused};
use crate::domain::user::User;
use crate::error::AppError;
use crate::http::csrf::CsrfForm;
use crate::http::error::{PageError, insert_retry_after};
use crate::http::session::{CurrentUser, Layout, MaybeUser};
use crate::secret::Password;
use crate::state::AppState;

/// `templates/email_settings.html`.
#[derive(Template)]
#[template(path = "email_settings.html")]
struct EmailPage {
    layout: Layout,
    email: String,
    verified: bool,
    mail_on: bool,
    typed: String,
    notice: Option<String>,
    error: Option<String>,
}

/// `templates/verify_email.html`.
#[derive(Template)]
#[template(path = "verify_email.html")]
struct VerifyPage {
    layout: Layout,
    token: String,
    done: bool,
}

fn email_page(state: &AppState, layout: Layout, user: &User) -> EmailPage {
    EmailPage {
        layout,
        email: user.email.clone(),
        verified: user.email_verified,
        mail_on: state.mail_on(),
        typed: String::new(),
        notice: None,
        error: None,
    }
}

fn render(
    page: &EmailPage,
    status: StatusCode,
    retry: Option<u64>,
) -> Result<HttpResponse, PageError> {
    let mut res = html(status, page)?;
    if let Some(secs) = retry {
        insert_retry_after(&mut res, secs);
    }
    Ok(res)
}

/// `GET /settings/email`
pub async fn email_get(
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let page = email_page(&state, current.layout, &current.user);
    render(&page, StatusCode::OK, None)
}

/// Form of `POST /settings/email`.
#[derive(Deserialize)]
pub struct EmailForm {
    email: String,
    current_password: Password,
}

/// `POST /settings/email`: the new address, unverified, its link mailed (401 for a wrong
/// password, 409 for an address in use, 429 when throttled, 503 when too many passwords are
/// being checked).
pub async fn email_post(
    CsrfForm(form): CsrfForm<EmailForm>,
    current: CurrentUser,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let change = EmailChange {
        email: form.email.clone(),
        current: form.current_password,
    };
    let ip = crate::http::meta::client_ip(&req);
    let outcome = email_verification::change(
        &state.ctx,
        &state.signin_throttle,
        ip,
        &current.user,
        change,
    )
    .await;
    let mut page = email_page(&state, current.layout, &current.user);
    let (status, retry) = match outcome {
        Ok(Ok(user)) => {
            tracing::info!(user_id = %user.id, "email address changed");
            page.email = user.email;
            page.verified = false;
            page.notice = Some(if state.mail_on() {
                "Your address was changed. Open the link we mailed to it to confirm it.".into()
            } else {
                "Your address was changed.".into()
            });
            (StatusCode::OK, None)
        }
        Ok(Err(SignInRefused::Incorrect(message))) => {
            page.error = Some(message);
            (StatusCode::UNAUTHORIZED, None)
        }
        Ok(Err(SignInRefused::Throttled { wait_secs })) => {
            page.error = Some(format!(
                "Too many failed attempts. Try again in {} minute(s).",
                (wait_secs + 59) / 60
            ));
            let secs = u64::try_from(wait_secs).unwrap_or(1);
            (StatusCode::TOO_MANY_REQUESTS, Some(secs))
        }
        Ok(Err(SignInRefused::Busy { retry_after_secs })) => {
            page.error = Some(AppError::Busy { retry_after_secs }.to_string());
            (StatusCode::SERVICE_UNAVAILABLE, Some(retry_after_secs))
        }
        Err(err @ (AppError::Validation { .. } | AppError::Conflict(_))) => {
            let status = match err {
                AppError::Conflict(_) => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            page.error = Some(err.to_string());
            (status, None)
        }
        Err(other) => return Err(other.into()),
    };
    if page.error.is_some() {
        // Shown back at most as long as any address can be.
        page.typed = bounded::truncate(form.email.trim(), bounded::EMAIL).to_owned();
    }
    render(&page, status, retry)
}

/// `POST /settings/email/resend`: a new confirmation link (429 when asked too often).
pub async fn resend_post(
    _: CsrfForm<EmptyForm>,
    current: CurrentUser,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let ip = crate::http::meta::client_ip(&req);
    let outcome =
        email_verification::resend(&state.ctx, &state.mail_throttle, ip, &current.user).await?;
    let mut page = email_page(&state, current.layout, &current.user);
    let (status, retry) = match outcome {
        Ok(_) => {
            page.notice = Some(format!("A new link is on its way to {}.", page.email));
            (StatusCode::OK, None)
        }
        Err(ResendRefused::AlreadyVerified) => {
            page.notice = Some("Your address is verified already.".into());
            (StatusCode::OK, None)
        }
        Err(ResendRefused::NoMail) => {
            page.error = Some("This server sends no mail.".into());
            (StatusCode::CONFLICT, None)
        }
        Err(ResendRefused::Throttled { wait_secs }) => {
            page.error = Some(format!(
                "Too many links asked for. Try again in {} minute(s).",
                (wait_secs + 59) / 60
            ));
            let secs = u64::try_from(wait_secs).unwrap_or(1);
            (StatusCode::TOO_MANY_REQUESTS, Some(secs))
        }
    };
    render(&page, status, retry)
}

/// `GET /verify-email?token=…`: the confirmation button, or the refusal. Changes nothing.
pub async fn verify_get(
    MaybeUser(layout): MaybeUser,
    query: web::Query<LinkQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    if !email_verification::link_is_valid(&state.ctx, &query.token).await? {
        return Ok(links::refused(layout, false)?);
    }
    let page = VerifyPage {
        layout,
        token: query.into_inner().token,
        done: false,
    };
    Ok(links::no_store(html(StatusCode::OK, &page)?)?)
}

/// Form of `POST /verify-email`.
#[derive(Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    token: String,
}

/// `POST /verify-email`: confirms the address the link was mailed to.
pub async fn verify_post(
    CsrfForm(form): CsrfForm<VerifyForm>,
    MaybeUser(layout): MaybeUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    if !email_verification::confirm(&state.ctx, &form.token).await? {
        return Ok(links::refused(layout, false)?);
    }
    let page = VerifyPage {
        layout,
        token: String::new(),
        done: true,
    };
    Ok(links::no_store(html(StatusCode::OK, &page)?)?)
}
