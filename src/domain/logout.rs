//! OpenID Connect RP-Initiated Logout 1.0: an app sends the person to the end-session endpoint
//! to sign them out of this server too, and names where they should land afterwards.
//!
//! The rules, all here: an `id_token_hint` must be an ID token this server signed (expired ones
//! count, §2); `client_id`, when sent with a hint, must be the hint's audience; a
//! `post_logout_redirect_uri` is followed only for an identified app that registered it
//! exactly (§3), otherwise the request is refused on a page and nobody is redirected; and the
//! person is signed out without a question only when the hint names this very browser session
//! (its `sub` and `sid`), since anyone can link to the endpoint. Ending a session also ends the
//! session tokens tied to it (`BrowserSessions::end`).

use url::Url;

use crate::domain::audit::AuditEvent;
use crate::domain::browser_sessions::{BrowserSessions, Ended};
use crate::domain::client::Client;
use crate::domain::context::Context;
use crate::domain::jwt::KeySet;
use crate::domain::user::User;
use crate::error::{AppError, Result};
use crate::storage;

/// The parameters of the end-session request (§2), by query or form.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct EndSessionParams {
    /// An ID token this server issued to the app, naming the person and session.
    pub id_token_hint: Option<String>,
    /// The app asking.
    pub client_id: Option<String>,
    /// Where the person goes once signed out: one of the app's registered URIs.
    pub post_logout_redirect_uri: Option<String>,
    /// Opaque app state, returned with the redirect.
    pub state: Option<String>,
    /// Accepted and ignored (§2: a hint about whom to sign out).
    pub logout_hint: Option<String>,
    /// Accepted and ignored: pages are in English.
    pub ui_locales: Option<String>,
}

/// The longest ID token accepted as a hint: far above any this server signs.
const MAX_HINT: usize = 8192;
/// The longest value of any other parameter.
const MAX_PARAM: usize = 2048;

/// The browser session the request came with.
#[derive(Debug, Clone, Copy)]
pub struct Current<'a> {
    /// The signed-in person's stored id.
    pub user_id: &'a str,
    /// The session's public id.
    pub sid: Option<&'a str>,
}

/// What to do with a valid request.
#[derive(Debug)]
pub struct LogoutPlan {
    /// Where to send the person afterwards (with `state`), if anywhere.
    pub redirect: Option<Url>,
    /// The app's name, for the confirmation page.
    pub app_name: Option<String>,
    /// The app's id, for the audit log.
    pub client_id: Option<String>,
    /// Ask the person first: the request did not prove it speaks for this session.
    pub confirm: bool,
}

/// Why an end-session request was refused: shown on a page, never redirected (§3).
#[derive(Debug)]
pub enum LogoutRefusal {
    /// The request is wrong; the message says how.
    Invalid(&'static str),
    /// Storage failed.
    Failed(AppError),
}

impl From<AppError> for LogoutRefusal {
    fn from(e: AppError) -> Self {
        Self::Failed(e)
    }
}

/// The claims of a verified hint that matter here.
struct Hint {
    audience: String,
    subject: String,
    sid: Option<String>,
}

fn read_hint(keys: &KeySet, token: &str) -> Result<Hint, LogoutRefusal> {
    let invalid = || LogoutRefusal::Invalid("The id_token_hint is not an ID token from here.");
    let claims = keys.verify_id_token(token).map_err(|_| invalid())?;
    let text = |k: &str| claims.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    // Core §2: `aud` may be an array; ours always name the one client first.
    let audience = text("aud").or_else(|| {
        claims
            .get("aud")
            .and_then(|v| v.as_array())
            .and_then(|a| a.first())
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    });
    Ok(Hint {
        audience: audience.ok_or_else(invalid)?,
        subject: text("sub").ok_or_else(invalid)?,
        sid: text("sid"),
    })
}

fn bounded(p: &EndSessionParams) -> Result<(), LogoutRefusal> {
    let too_long = |v: &Option<String>, max: usize| v.as_ref().is_some_and(|v| v.len() > max);
    if too_long(&p.id_token_hint, MAX_HINT)
        || [
            &p.client_id,
            &p.post_logout_redirect_uri,
            &p.state,
            &p.logout_hint,
            &p.ui_locales,
        ]
        .into_iter()
        .any(|v| too_long(v, MAX_PARAM))
    {
        return Err(LogoutRefusal::Invalid(
            "A parameter of the request is too long.",
        ));
    }
    Ok(())
}

async fn find_app(ctx: &Context, id: &str) -> Result<Client, LogoutRefusal> {
    let unknown = LogoutRefusal::Invalid("The app is not registered with this server.");
    if !crate::domain::client::is_issued_id(id) {
        return Err(unknown);
    }
    storage::clients::find_client(ctx.db(), id)
        .await?
        .ok_or(unknown)
}

/// Checks an end-session request and decides whether to ask the person first.
pub async fn plan(
    ctx: &Context,
    keys: &KeySet,
    p: &EndSessionParams,
    current: Option<Current<'_>>,
) -> Result<LogoutPlan, LogoutRefusal> {
    bounded(p)?;
    let present = |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
    let hint = present(&p.id_token_hint)
        .map(|t| read_hint(keys, &t))
        .transpose()?;
    let client_id = match (present(&p.client_id), &hint) {
        (Some(id), Some(h)) if id != h.audience => {
            return Err(LogoutRefusal::Invalid(
                "The client_id is not the app the id_token_hint was issued to.",
            ));
        }
        (Some(id), _) => Some(id),
        (None, Some(h)) => Some(h.audience.clone()),
        (None, None) => None,
    };
    let app = match &client_id {
        Some(id) => Some(find_app(ctx, id).await?),
        None => None,
    };
    let redirect = match (present(&p.post_logout_redirect_uri), &app) {
        (None, _) => None,
        (Some(_), None) => {
            return Err(LogoutRefusal::Invalid(
                "A post_logout_redirect_uri needs the app named by client_id or id_token_hint.",
            ));
        }
        (Some(uri), Some(app)) if app.allows_post_logout_redirect(&uri) => {
            let mut url = Url::parse(&uri).map_err(|_| {
                LogoutRefusal::Invalid("The post_logout_redirect_uri is not registered.")
            })?;
            if let Some(state) = present(&p.state) {
                url.query_pairs_mut().append_pair("state", &state);
            }
            Some(url)
        }
        (Some(_), Some(_)) => {
            return Err(LogoutRefusal::Invalid(
                "The post_logout_redirect_uri is not registered for this app.",
            ));
        }
    };
    // §2: without proof that the request speaks for this session, the person confirms.
    let confirm = match (current, &hint) {
        (None, _) => false,
        (Some(c), Some(h)) => {
            !(h.subject == User::public_id_of(c.user_id)
                && h.sid.is_some()
                && h.sid.as_deref() == c.sid)
        }
        (Some(_), None) => true,
    };
    Ok(LogoutPlan {
        redirect,
        app_name: app.as_ref().map(|a| a.name.clone()),
        client_id: app.map(|a| a.id),
        confirm,
    })
}

/// Ends the person's browser session and the session tokens tied to it, recording that `app`
/// (when known) asked. A session already gone (ended from another browser) is no error: the
/// person is signed out either way.
pub async fn end(
    ctx: &Context,
    sessions: &BrowserSessions,
    current: Current<'_>,
    app: Option<&str>,
) -> Result<()> {
    ctx.record(
        AuditEvent::here("signout")
            .by_user(current.user_id)
            .detail(serde_json::json!({"via": "end_session", "client_id": app})),
    );
    let Some(sid) = current.sid else {
        return Ok(());
    };
    match sessions.end(current.user_id, sid, Some(sid)).await {
        Ok(Ended::ThisSession | Ended::Another) | Err(AppError::NotFound(_)) => Ok(()),
        Err(e) => Err(e),
    }
}
