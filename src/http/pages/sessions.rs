//! Settings → Sessions: the signed-in person's live browser sessions (device, address, when
//! signed in, when last active, which one is this browser) and ending one of them. Sessions are
//! named by their public id, never by the cookie key or its hash.

use actix_session::Session;
use actix_web::{HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;

use super::account::when;
use super::{EmptyForm, see_other};
use crate::domain::browser_sessions::Ended;
use crate::domain::credentials::format_time;
use crate::http::csrf::CsrfForm;
use crate::http::error::PageError;
use crate::http::layout::flash;
use crate::http::session::{self, CurrentUser, Layout};
use crate::state::AppState;

/// One live session as a table row.
pub struct SessionRow {
    sid: String,
    device: String,
    user_agent: String,
    ip: String,
    signed_in: String,
    signed_in_iso: String,
    last_active: String,
    last_active_iso: String,
    current: bool,
}

/// `templates/sessions.html`.
#[derive(Template, WebTemplate)]
#[template(path = "sessions.html")]
pub struct SessionsPage {
    layout: Layout,
    sessions: Vec<SessionRow>,
}

/// `GET /settings/sessions`
pub async fn sessions_get(
    current: CurrentUser,
    session: Session,
    state: web::Data<AppState>,
) -> Result<SessionsPage, PageError> {
    let here = session::session_id(&session);
    let sessions = state
        .browser_sessions
        .list(&current.user.id)
        .await?
        .into_iter()
        .map(|s| SessionRow {
            current: here.as_deref() == Some(s.sid.as_str()),
            device: s.device(),
            user_agent: s.user_agent.unwrap_or_default(),
            ip: s.ip.unwrap_or_default(),
            signed_in: when(s.signed_in_at),
            signed_in_iso: format_time(s.signed_in_at),
            last_active: when(s.last_seen_at),
            last_active_iso: format_time(s.last_seen_at),
            sid: s.sid,
        })
        .collect();
    Ok(SessionsPage {
        layout: current.layout,
        sessions,
    })
}

/// `POST /settings/sessions/{sid}/end`: ends one of the person's sessions and its session
/// tokens; ending this browser's own signs it out.
pub async fn session_end_post(
    _: CsrfForm<EmptyForm>,
    sid: web::Path<String>,
    current: CurrentUser,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let here = session::session_id(&session);
    match state
        .browser_sessions
        .end(&current.user.id, &sid, here.as_deref())
        .await?
    {
        Ended::ThisSession => {
            session.purge();
            Ok(see_other("/signin"))
        }
        Ended::Another => {
            flash(&session, "That session was signed out.")?;
            Ok(see_other("/settings/sessions"))
        }
    }
}
