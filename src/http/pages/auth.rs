//! Sign-up, sign-in and sign-out pages.

use actix_session::Session;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use super::see_other;
use crate::domain::accounts::{self, NewAccount, SignInRefused, SignupPolicy};
use crate::domain::app_profile;
use crate::domain::auth_methods::{AuthMethod, AuthMethods};
use crate::domain::bounded;
use crate::domain::factors::signin::{self, AfterPassword};
use crate::domain::return_to::safe_return_path;
use crate::error::AppError;
use crate::http::csrf::CsrfForm;
use crate::http::error::{PageError, insert_retry_after};
use crate::http::session::{self, Layout, MaybeUser};
use crate::secret::Password;
use crate::state::AppState;

/// `templates/signin.html`.
#[derive(Template, WebTemplate)]
#[template(path = "signin.html")]
pub struct SignInPage {
    layout: Layout,
    email: String,
    return_to: String,
    error: Option<String>,
    first_run: bool,
    signup_open: bool,
    again: bool,
    /// Just signed out: the page says so (a session message cannot outlive the session).
    signed_out: bool,
    /// Offer "Sign in with a passkey" (the server has a relying party).
    passkeys: bool,
    /// The app whose authorization request sent the person here.
    app_name: Option<String>,
}

/// `templates/signup.html`.
#[derive(Template, WebTemplate)]
#[template(path = "signup.html")]
pub struct SignUpPage {
    layout: Layout,
    email: String,
    name: String,
    error: Option<String>,
    first_run: bool,
}

/// Query of `GET /signin`.
#[derive(Deserialize)]
pub struct ReturnTo {
    return_to: Option<String>,
    /// Pre-fills the email field (an OpenID Connect `login_hint`); never trusted otherwise.
    login_hint: Option<String>,
    /// `1`: show the form even to someone signed in (an app asked for a fresh sign-in).
    again: Option<String>,
    /// `1`: the person has just signed out.
    signed_out: Option<String>,
}

/// `303` to the sign-in page, which comes back to `return_to` after signing in; `login_hint`
/// pre-fills the email field, and `again` shows the form even to someone already signed in.
pub fn signin_redirect(return_to: &str, login_hint: Option<&str>, again: bool) -> HttpResponse {
    let mut query = vec![("return_to", return_to)];
    query.extend(login_hint.map(|h| ("login_hint", h)));
    if again {
        query.push(("again", "1"));
    }
    see_other(&format!(
        "/signin?{}",
        serde_urlencoded::to_string(query).unwrap_or_default()
    ))
}

/// Settings → Security, where a second factor is enrolled, coming back to `return_to` after.
pub fn enrol_location(return_to: &str) -> String {
    if return_to.is_empty() {
        return "/settings/security".into();
    }
    format!(
        "/settings/security?{}",
        serde_urlencoded::to_string([("return_to", return_to)]).unwrap_or_default()
    )
}

fn keep_return_to(raw: Option<&str>) -> String {
    raw.and_then(safe_return_path)
        .unwrap_or_default()
        .to_owned()
}

/// The name of the app whose authorization request (`return_to`) sent this session to sign in.
async fn requesting_app(
    state: &AppState,
    session: &Session,
    return_to: &str,
) -> Result<Option<String>, PageError> {
    let Some(query) = return_to.strip_prefix("/oauth/authorize?") else {
        return Ok(None);
    };
    if !session::awaits_sign_in_for(session, query) {
        return Ok(None);
    }
    let client_id = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "client_id")
        .map(|(_, v)| v.into_owned());
    match client_id {
        Some(id) => Ok(app_profile::requesting_app(&state.ctx, &id).await?),
        None => Ok(None),
    }
}

async fn signin_page(
    state: &AppState,
    session: &Session,
    layout: Layout,
    email: String,
    return_to: String,
    error: Option<String>,
) -> Result<SignInPage, PageError> {
    let first_run = accounts::first_run(&state.ctx).await?;
    let app_name = requesting_app(state, session, &return_to).await?;
    Ok(SignInPage {
        layout,
        email,
        return_to,
        error,
        first_run,
        signup_open: first_run || matches!(state.signup_policy(), SignupPolicy::Open),
        again: false,
        signed_out: false,
        passkeys: state.ctx.relying_party().is_some(),
        app_name,
    })
}

/// `GET /signin`
pub async fn signin_get(
    MaybeUser(layout): MaybeUser,
    query: web::Query<ReturnTo>,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let return_to = keep_return_to(query.return_to.as_deref());
    let again = query.again.as_deref() == Some("1");
    if layout.user.is_some() && !again {
        return Ok(see_other(if return_to.is_empty() {
            "/account"
        } else {
            &return_to
        }));
    }
    // A hint only pre-fills the field, at most as long as any address can be; askama escapes it.
    let hint = query.login_hint.as_deref().unwrap_or_default().trim();
    let email = match (hint, &layout.user) {
        ("", Some(user)) => user.email.clone(),
        (hint, _) => bounded::truncate(hint, bounded::EMAIL).to_owned(),
    };
    let mut page = signin_page(&state, &session, layout, email, return_to, None).await?;
    page.again = again;
    page.signed_out = query.signed_out.as_deref() == Some("1");
    Ok(html(StatusCode::OK, &page)?)
}

/// Form of `POST /signin`.
#[derive(Deserialize)]
pub struct SignInForm {
    email: String,
    password: Password,
    #[serde(default)]
    return_to: String,
}

/// `POST /signin`: throttled after repeated failures (per source address and account, and per
/// address across accounts); 503 with `Retry-After` when too many passwords are being checked.
pub async fn signin_post(
    CsrfForm(form): CsrfForm<SignInForm>,
    MaybeUser(layout): MaybeUser,
    session: Session,
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let return_to = keep_return_to(Some(&form.return_to));
    let ip = crate::http::meta::client_ip(&req);
    // Shown back at most as long as any address can be.
    let shown = bounded::truncate(form.email.trim(), bounded::EMAIL).to_owned();
    let outcome = match signin::sign_in_with_password(
        &state.ctx,
        &state.signin_throttle,
        ip,
        &form.email,
        form.password,
    )
    .await
    {
        Err(err @ AppError::Validation { .. }) => {
            let page = signin_page(
                &state,
                &session,
                layout,
                shown,
                return_to,
                Some(err.to_string()),
            )
            .await?;
            return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page)?);
        }
        other => other?,
    };
    match outcome {
        Ok(AfterPassword::SignedIn { user, must_enrol }) => {
            session::start(
                &session,
                &user,
                state.ctx.now(),
                &AuthMethods::one(AuthMethod::Password),
            )?;
            tracing::info!(user_id = %user.id, "signed in");
            if must_enrol {
                session::require_enrolment(&session)?;
                return Ok(see_other(&enrol_location(&return_to)));
            }
            Ok(see_other(if return_to.is_empty() {
                "/account"
            } else {
                &return_to
            }))
        }
        Ok(AfterPassword::SecondFactor(pending)) => {
            session::hold_pending(&session, &pending, &return_to)?;
            Ok(see_other("/signin/second-factor"))
        }
        Err(SignInRefused::Incorrect(message)) => {
            tracing::info!("sign-in failed");
            let page =
                signin_page(&state, &session, layout, shown, return_to, Some(message)).await?;
            Ok(html(StatusCode::UNAUTHORIZED, &page)?)
        }
        Err(SignInRefused::Throttled { wait_secs: wait }) => {
            let message = format!(
                "Too many failed attempts. Try again in {} minute(s).",
                (wait + 59) / 60
            );
            let page =
                signin_page(&state, &session, layout, shown, return_to, Some(message)).await?;
            let mut res = html(StatusCode::TOO_MANY_REQUESTS, &page)?;
            if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&wait.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Ok(res)
        }
        Err(SignInRefused::Busy { retry_after_secs }) => {
            let message = AppError::Busy { retry_after_secs }.to_string();
            let page = signin_page(
                &state,
                &session,
                layout,
                form.email,
                return_to,
                Some(message),
            )
            .await?;
            let mut res = html(StatusCode::SERVICE_UNAVAILABLE, &page)?;
            insert_retry_after(&mut res, retry_after_secs);
            Ok(res)
        }
    }
}

/// `GET /signup`
pub async fn signup_get(
    MaybeUser(layout): MaybeUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let first_run = accounts::first_run(&state.ctx).await?;
    if !first_run && matches!(state.signup_policy(), SignupPolicy::FirstAccountOnly) {
        return Err(signup_closed().into());
    }
    let page = SignUpPage {
        layout,
        email: String::new(),
        name: String::new(),
        error: None,
        first_run,
    };
    Ok(html(StatusCode::OK, &page)?)
}

fn signup_closed() -> AppError {
    AppError::Forbidden(
        "Sign-up is closed on this server. Ask an administrator for an account.".into(),
    )
}

/// Form of `POST /signup`.
#[derive(Deserialize)]
pub struct SignUpForm {
    email: String,
    name: String,
    password: Password,
}

/// `POST /signup`: the form again with the reason when refused (503 with `Retry-After` when too
/// many passwords are being hashed).
pub async fn signup_post(
    CsrfForm(form): CsrfForm<SignUpForm>,
    MaybeUser(layout): MaybeUser,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let input = NewAccount {
        email: form.email.clone(),
        name: form.name.clone(),
        password: form.password,
    };
    match signin::sign_up(&state.ctx, state.signup_policy(), input).await {
        Ok((user, must_enrol)) => {
            session::start(
                &session,
                &user,
                state.ctx.now(),
                &AuthMethods::one(AuthMethod::Password),
            )?;
            tracing::info!(user_id = %user.id, admin = user.is_admin, "account created");
            if must_enrol {
                session::require_enrolment(&session)?;
                return Ok(see_other(&enrol_location("")));
            }
            Ok(see_other("/account"))
        }
        Err(
            err @ (AppError::Validation { .. } | AppError::Conflict(_) | AppError::Busy { .. }),
        ) => {
            let status = match err {
                AppError::Conflict(_) => StatusCode::CONFLICT,
                AppError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let first_run = accounts::first_run(&state.ctx).await?;
            // Shown back at most as long as each may be.
            let page = SignUpPage {
                layout,
                email: bounded::truncate(&form.email, bounded::EMAIL).to_owned(),
                name: bounded::truncate(&form.name, bounded::NAME).to_owned(),
                error: Some(err.to_string()),
                first_run,
            };
            let mut res = html(status, &page)?;
            if let AppError::Busy { retry_after_secs } = err {
                insert_retry_after(&mut res, retry_after_secs);
            }
            Ok(res)
        }
        Err(other) => Err(other.into()),
    }
}

/// Form of `POST /signout`.
#[derive(Deserialize)]
pub struct SignOutForm {
    /// Where to go next (a local path): the consent page's "Switch account" comes back to the
    /// same authorization request, which then asks whoever is at the keyboard to sign in.
    #[serde(default)]
    return_to: String,
}

/// `POST /signout`: ends this browser session and its session tokens.
pub async fn signout_post(
    CsrfForm(form): CsrfForm<SignOutForm>,
    MaybeUser(layout): MaybeUser,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let user_id = layout.user.as_ref().map(|u| u.id.as_str());
    state
        .session_tokens
        .sign_out(user_id, session::session_id(&session).as_deref())
        .await?;
    session.purge();
    let next = keep_return_to(Some(&form.return_to));
    Ok(see_other(if next.is_empty() {
        "/signin?signed_out=1"
    } else {
        &next
    }))
}

/// Renders a template with a status.
pub fn html(status: StatusCode, page: &impl Template) -> Result<HttpResponse, AppError> {
    let body = page.render().map_err(AppError::internal)?;
    Ok(HttpResponse::build(status)
        .content_type(actix_web::http::header::ContentType::html())
        .body(body))
}
