//! Settings → Passkeys: the signed-in person's passkeys (name, when added, when last used),
//! renaming and removing them, and the registration ceremony `static/passkeys.js` runs:
//! `POST /settings/passkeys/register/start` answers the creation options and keeps the
//! registration's state in the session; `POST /settings/passkeys/register/finish` takes the new
//! credential. The state never leaves the server, and finishing spends it.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;
use serde_json::json;

use super::auth::html;
use super::credentials::when;
use super::{EmptyForm, see_other};
use crate::domain::auth_methods::AuthMethod;
use crate::domain::credentials::format_time;
use crate::domain::passkeys::{self, RegistrationState};
use crate::domain::user::User;
use crate::error::AppError;
use crate::http::csrf::{CsrfForm, CsrfJson};
use crate::http::error::{ApiError, PageError};
use crate::http::layout::flash;
use crate::http::session::{self, CurrentUser, Layout};
use crate::state::AppState;

/// Session key of the registration under way.
const REGISTRATION: &str = "passkey_registration";

/// One passkey as a table row.
pub struct PasskeyRow {
    id: String,
    name: String,
    added: String,
    added_iso: String,
    last_used: String,
    last_used_iso: String,
}

/// `templates/passkeys.html`.
#[derive(Template, WebTemplate)]
#[template(path = "passkeys.html")]
pub struct PasskeysPage {
    layout: Layout,
    passkeys: Vec<PasskeyRow>,
    available: bool,
    rp_id: String,
    error: Option<String>,
    name_max: usize,
}

async fn page(
    state: &AppState,
    user: &User,
    layout: Layout,
    error: Option<String>,
) -> Result<PasskeysPage, PageError> {
    let passkeys = passkeys::list(&state.ctx, user)
        .await?
        .into_iter()
        .map(|p| PasskeyRow {
            added: when(Some(p.created_at)),
            added_iso: format_time(p.created_at),
            last_used: when(p.last_used_at),
            last_used_iso: p.last_used_at.map(format_time).unwrap_or_default(),
            id: p.id,
            name: p.name,
        })
        .collect();
    let rp = state.ctx.relying_party();
    Ok(PasskeysPage {
        layout,
        passkeys,
        available: rp.is_some(),
        rp_id: rp.map(|rp| rp.id().to_owned()).unwrap_or_default(),
        error,
        name_max: passkeys::NAME_MAX_CHARS,
    })
}

/// `GET /settings/passkeys`
pub async fn passkeys_get(
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<PasskeysPage, PageError> {
    page(&state, &current.user, current.layout, None).await
}

/// Form of `POST /settings/passkeys/{id}/rename`.
#[derive(Deserialize)]
pub struct RenameForm {
    #[serde(default)]
    name: String,
}

/// `POST /settings/passkeys/{id}/rename`: 404 for a passkey that is not the person's, the page
/// again with the reason (422) for a name that breaks the rules.
pub async fn rename_post(
    CsrfForm(form): CsrfForm<RenameForm>,
    id: web::Path<String>,
    current: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    match passkeys::rename(&state.ctx, &current.user, &id, &form.name).await {
        Ok(()) => {
            flash(&session, "Passkey renamed.")?;
            Ok(see_other("/settings/passkeys"))
        }
        Err(err @ AppError::Validation { .. }) => {
            let page = page(&state, &current.user, current.layout, Some(err.to_string())).await?;
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page)?)
        }
        Err(other) => Err(other.into()),
    }
}

/// `POST /settings/passkeys/{id}/remove`: 404 for a passkey that is not the person's.
pub async fn remove_post(
    _: CsrfForm<EmptyForm>,
    id: web::Path<String>,
    current: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    passkeys::remove(&state.ctx, &current.user, &id).await?;
    flash(&session, "Passkey removed.")?;
    Ok(see_other("/settings/passkeys"))
}

/// Body of `POST /settings/passkeys/register/start`.
#[derive(Deserialize)]
pub struct StartRegistration {
    name: String,
}

/// The signed-in person, or 401 in the house shape (a script asks; there is nowhere to redirect).
async fn signed_in(session: &Session, state: &AppState) -> Result<User, ApiError> {
    session::signed_in_user(session, state)
        .await
        .map_err(ApiError::for_browser)?
        .ok_or_else(|| {
            ApiError::for_browser(AppError::Unauthenticated(
                "Sign in to manage your passkeys.".into(),
            ))
        })
}

fn session_error(e: impl std::fmt::Display) -> ApiError {
    ApiError::for_browser(AppError::internal(anyhow::anyhow!("{e}")))
}

/// `POST /settings/passkeys/register/start`: the options for `navigator.credentials.create`.
pub async fn register_start_post(
    CsrfJson(body): CsrfJson<StartRegistration>,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = signed_in(&session, &state).await?;
    let (options, ceremony) = passkeys::start_registration(&state.ctx, &user, &body.name)
        .await
        .map_err(ApiError::for_browser)?;
    session
        .insert(REGISTRATION, ceremony)
        .map_err(session_error)?;
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(options))
}

/// `POST /settings/passkeys/register/finish`: stores the passkey the browser made (201).
pub async fn register_finish_post(
    CsrfJson(credential): CsrfJson<serde_json::Value>,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = signed_in(&session, &state).await?;
    // Taken out before anything is checked: a registration is finished at most once.
    let ceremony = session
        .remove_as::<RegistrationState>(REGISTRATION)
        .and_then(Result::ok);
    let stored = passkeys::finish_registration(&state.ctx, &user, ceremony, &credential)
        .await
        .map_err(ApiError::for_browser)?;
    // The person has just used the new passkey: it meets a second-factor requirement and counts
    // as this session's second factor, as a confirmed authenticator app does.
    session::enrolled(&session, AuthMethod::Passkey).map_err(|_| {
        ApiError::for_browser(AppError::internal(anyhow::anyhow!("session not updated")))
    })?;
    Ok(HttpResponse::Created()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(json!({
            "id": stored.id,
            "name": stored.name,
            "created_at": format_time(stored.created_at),
        })))
}
