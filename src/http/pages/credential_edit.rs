//! Settings → Credentials, after creation: renaming a credential and rolling an API key
//! (`domain::credentials::edit`). The rolled key's new secret goes through the one-time reveal.

use actix_session::Session;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::credentials::{invalid, reveal, when};
use super::see_other;
use crate::domain::principal::Principal;
use crate::http::csrf::CsrfForm;
use crate::http::error::PageError;
use crate::http::layout::flash;
use crate::http::session::CurrentUser;
use crate::state::AppState;

/// The rename form.
#[derive(Deserialize)]
pub struct RenameForm {
    #[serde(default)]
    name: String,
}

/// `POST /settings/credentials/{kind}/{id}/rename`
pub async fn rename_post(
    CsrfForm(f): CsrfForm<RenameForm>,
    path: web::Path<(String, String)>,
    current: CurrentUser,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let (_, id) = path.into_inner();
    let me = Principal::session(&current.user);
    match state.credentials.rename(&me, "active", &id, &f.name).await {
        Ok(c) => {
            flash(&session, format!("Renamed to “{}”.", c.name))?;
            Ok(see_other("/settings/credentials"))
        }
        Err(e) => invalid(&state, current, e).await,
    }
}

/// The roll form: how long the old secret keeps working, in seconds.
#[derive(Deserialize)]
pub struct RollForm {
    #[serde(default)]
    overlap: String,
}

/// `POST /settings/credentials/api_key/{id}/roll`
pub async fn roll_post(
    CsrfForm(f): CsrfForm<RollForm>,
    id: web::Path<String>,
    current: CurrentUser,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let me = Principal::session(&current.user);
    let overlap = f.overlap.trim().parse::<i64>().unwrap_or(-1);
    match state
        .credentials
        .roll_api_key(&me, "active", &id, overlap)
        .await
    {
        Ok(rolled) => {
            let note = match rolled.old_valid_until {
                Some(until) => format!(
                    "The old key keeps working until {}, then stops by itself; both are listed until then. Send this one in the Authorization header: Authorization: Bearer followed by the key.",
                    when(Some(until))
                ),
                None => "The old key stopped working. Send this one in the Authorization header: Authorization: Bearer followed by the key.".into(),
            };
            let title = format!("API key “{}”, rolled", rolled.issued.credential.name);
            reveal(
                &session,
                &state,
                &current,
                &title,
                rolled.issued.secret.expose(),
                &note,
            )
        }
        Err(e) => invalid(&state, current, e).await,
    }
}
