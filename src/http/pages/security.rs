//! Settings → Security: the person's second factors. Enrolling an authenticator app (a QR code
//! rendered here as inline SVG, and the seed as text), confirming it with a first code, the
//! recovery codes shown once (`Cache-Control: no-store`), making a new set, and removing the
//! app with the password or a code. Rules and events are `domain::factors`'.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::html;
use super::see_other;
use crate::domain::accounts::SignInRefused;
use crate::domain::auth_methods::AuthMethod;
use crate::domain::factors::{self, Overview, Reauthentication, recovery::FEW_LEFT};
use crate::domain::return_to::safe_return_path;
use crate::error::AppError;
use crate::http::csrf::CsrfForm;
use crate::http::error::{PageError, insert_retry_after};
use crate::http::layout::flash;
use crate::http::reveal::{Shown, hold};
use crate::http::session::{self, CurrentUser, Layout};
use crate::secret::Password;
use crate::state::AppState;

/// `templates/security.html`.
#[derive(Template)]
#[template(path = "security.html")]
pub struct SecurityPage {
    layout: Layout,
    overview: Overview,
    few_left: bool,
    must_enrol: bool,
    return_to: String,
    error: Option<String>,
}

/// Query of `GET /settings/security`.
#[derive(Deserialize)]
pub struct ReturnTo {
    return_to: Option<String>,
}

fn keep(raw: Option<&str>) -> String {
    raw.and_then(safe_return_path)
        .unwrap_or_default()
        .to_owned()
}

async fn page(
    state: &AppState,
    current: CurrentUser,
    session: &Session,
    return_to: String,
    error: Option<(StatusCode, String)>,
) -> Result<HttpResponse, PageError> {
    let overview = factors::overview(&state.ctx, &current.user, state.tokens.issuer()).await?;
    let status = error.as_ref().map_or(StatusCode::OK, |(s, _)| *s);
    let page = SecurityPage {
        layout: current.layout,
        few_left: overview.totp && overview.recovery_left <= FEW_LEFT,
        overview,
        must_enrol: session::must_enrol(session),
        return_to,
        error: error.map(|(_, m)| m),
    };
    let mut res = html(status, &page)?;
    // The page may carry a new seed: never kept by a cache.
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// `GET /settings/security`
pub async fn security_get(
    current: CurrentUser,
    query: web::Query<ReturnTo>,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let return_to = keep(query.return_to.as_deref());
    page(&state, current, &session, return_to, None).await
}

/// Holds new recovery codes for the one-time reveal (see `http::reveal`); `next` is where
/// "I have saved them" leads.
fn codes_page(
    session: &Session,
    state: &AppState,
    current: &CurrentUser,
    codes: Vec<String>,
    next: String,
) -> Result<HttpResponse, PageError> {
    let shown = Shown {
        title: "Recovery codes".into(),
        secret_id: "recovery-codes".into(),
        secrets: codes,
        note: "Each one signs you in once in place of a code from your authenticator app, if you lose it. Any codes you had before no longer work.".into(),
        back: next,
        back_label: "I have saved them, continue".into(),
        facts: Vec::new(),
    };
    hold(session, state, &current.user, &shown)
}

fn refused(err: SignInRefused) -> (StatusCode, String, Option<i64>) {
    match err {
        SignInRefused::Incorrect(m) => (StatusCode::UNAUTHORIZED, m, None),
        SignInRefused::Throttled { wait_secs } => (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many failed attempts. Try again in {} minute(s).",
                (wait_secs + 59) / 60
            ),
            Some(wait_secs),
        ),
        SignInRefused::Busy { retry_after_secs } => (
            StatusCode::SERVICE_UNAVAILABLE,
            AppError::Busy { retry_after_secs }.to_string(),
            i64::try_from(retry_after_secs).ok(),
        ),
    }
}

async fn refused_page(
    state: &AppState,
    current: CurrentUser,
    session: &Session,
    return_to: String,
    err: SignInRefused,
) -> Result<HttpResponse, PageError> {
    let (status, message, wait) = refused(err);
    let mut res = page(state, current, session, return_to, Some((status, message))).await?;
    if let Some(wait) = wait {
        insert_retry_after(&mut res, u64::try_from(wait).unwrap_or(1));
    }
    Ok(res)
}

/// Form of `POST /settings/security/totp/confirm`.
#[derive(Deserialize)]
pub struct ConfirmForm {
    code: String,
    #[serde(default)]
    return_to: String,
}

/// `POST /settings/security/totp/confirm`: the first code confirms the app; the recovery codes
/// are shown once.
pub async fn totp_confirm_post(
    CsrfForm(form): CsrfForm<ConfirmForm>,
    current: CurrentUser,
    session: Session,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let return_to = keep(Some(&form.return_to));
    let ip = crate::http::meta::client_ip(&req);
    let code = crate::domain::bounded::truncate(&form.code, 64);
    match factors::confirm_enrolment(&state.ctx, &state.signin_throttle, ip, &current.user, code)
        .await?
    {
        Ok(codes) => {
            session::enrolled(&session, AuthMethod::Totp)?;
            let next = if return_to.is_empty() {
                "/settings/security".to_owned()
            } else {
                return_to
            };
            codes_page(&session, &state, &current, codes, next)
        }
        Err(err) => refused_page(&state, current, &session, return_to, err).await,
    }
}

/// `POST /settings/security/recovery-codes`: a new set, voiding the old one.
pub async fn recovery_codes_post(
    _: CsrfForm<super::EmptyForm>,
    current: CurrentUser,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let codes = factors::regenerate_recovery_codes(&state.ctx, &current.user).await?;
    codes_page(
        &session,
        &state,
        &current,
        codes,
        "/settings/security".into(),
    )
}

/// Form of `POST /settings/security/totp/remove`: the password, or else a code.
#[derive(Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    password: Option<Password>,
    #[serde(default)]
    code: String,
}

/// `POST /settings/security/totp/remove`
pub async fn totp_remove_post(
    CsrfForm(form): CsrfForm<RemoveForm>,
    current: CurrentUser,
    session: Session,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let ip = crate::http::meta::client_ip(&req);
    let code = crate::domain::bounded::truncate(form.code.trim(), 64);
    let proof = match form.password.filter(|p| !p.expose().is_empty()) {
        Some(p) => Reauthentication::Password(p),
        None => Reauthentication::Code(code),
    };
    match factors::remove_totp(&state.ctx, &state.signin_throttle, ip, &current.user, proof).await?
    {
        Ok(()) => {
            flash(&session, "Authenticator app removed.")?;
            Ok(see_other("/settings/security"))
        }
        Err(err) => refused_page(&state, current, &session, String::new(), err).await,
    }
}
