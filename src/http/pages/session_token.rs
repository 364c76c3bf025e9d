//! Settings → Credentials → Session token: a short-lived token for Swagger UI's Authorize, tied
//! to the browser session that asks for it (see `domain::session_tokens`).

use actix_session::Session;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::credentials::{invalid, reveal, when};
use crate::domain::tenant;
use crate::http::csrf::CsrfForm;
use crate::http::error::PageError;
use crate::http::session::CurrentUser;
use crate::state::AppState;

/// Form of the session-token creation.
#[derive(Deserialize)]
pub struct SessionTokenForm {
    #[serde(default)]
    name: String,
}

/// `POST /settings/credentials/session-token`: a token for Swagger UI's Authorize, tied to this
/// browser session.
pub async fn session_token_post(
    CsrfForm(f): CsrfForm<SessionTokenForm>,
    current: CurrentUser,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let tenant = tenant::active(&state.ctx, &current.user).await?;
    let browser = crate::http::session::browser_session(&session)?;
    match state
        .session_tokens
        .issue(&current.user, &tenant.id, &browser, &f.name)
        .await
    {
        Ok((token, t)) => reveal(
            &session,
            &state,
            &current,
            "Session token",
            &token,
            &format!(
                "Paste it into Authorize at /api/v1/docs, without the Bearer prefix. It works until {}, or until this browser session ends (sign-out, inactivity) or you revoke it on your account page, whichever comes first.",
                when(Some(t.expires_at))
            ),
        ),
        Err(e) => invalid(&state, current, e).await,
    }
}
