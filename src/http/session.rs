//! Who is signed in. The session holds the account id, the sign-in time and a random public id
//! (what session tokens name); the idle timeout is the session store's TTL (extended on every
//! request), the absolute timeout is checked here. It also remembers which authorization request
//! last sent the person to sign in (`await_sign_in`), so that request knows, when it comes back,
//! that the sign-in it asked for happened.

use std::future::Future;
use std::pin::Pin;

use actix_session::{Session, SessionExt};
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use super::csrf;
use super::error::PageError;
pub use super::layout::{Layout, TenantChoice};
use crate::domain::audit::Meta;
use crate::domain::auth_methods::{AuthMethod, AuthMethods};
use crate::domain::browser_sessions;
use crate::domain::factors::signin::PendingSignIn;
use crate::domain::session_tokens::{
    BrowserSession, STATE_METHODS as METHODS, STATE_SID as SID, STATE_SIGNED_IN_AT as SIGNED_IN_AT,
    STATE_USER_ID as USER_ID,
};
use crate::domain::user::User;
use crate::error::{AppError, Result};
use crate::state::AppState;

/// Session key of the authorization request waiting for a sign-in.
const AWAITED_SIGN_IN: &str = "awaited_sign_in";
/// Session key of a sign-in (or step-up) waiting for its second factor.
const PENDING: &str = "pending_sign_in";
/// Session key of where to go once the pending sign-in completes.
const PENDING_RETURN_TO: &str = "pending_return_to";
/// Session key set while the person must enrol a second factor before anything else.
const MUST_ENROL: &str = "must_enrol";

fn internal(e: impl std::fmt::Display) -> PageError {
    AppError::internal(anyhow::anyhow!("{e}")).into()
}

/// Holds a sign-in waiting for its second factor, and where to go after. A new sign-in (not a
/// step-up) ends whatever sign-in the session held and gets a new session key: the password
/// was right, but no one is signed in until the second step succeeds.
pub fn hold_pending(
    session: &Session,
    pending: &PendingSignIn,
    return_to: &str,
) -> Result<(), PageError> {
    if !pending.step_up {
        session.renew();
        for key in [USER_ID, SIGNED_IN_AT, SID, METHODS, MUST_ENROL] {
            session.remove(key);
        }
    }
    session.insert(PENDING, pending).map_err(internal)?;
    session
        .insert(PENDING_RETURN_TO, return_to)
        .map_err(internal)
}

/// The pending sign-in and where it returns to, if any.
pub fn pending(session: &Session) -> Option<(PendingSignIn, String)> {
    let pending = session.get::<PendingSignIn>(PENDING).ok().flatten()?;
    let return_to = session
        .get::<String>(PENDING_RETURN_TO)
        .ok()
        .flatten()
        .unwrap_or_default();
    Some((pending, return_to))
}

/// Keeps a pending sign-in's updated state (its failure count), or drops it when it `ended`.
pub fn update_pending(
    session: &Session,
    pending: &PendingSignIn,
    ended: bool,
) -> Result<(), PageError> {
    if ended {
        session.remove(PENDING);
        session.remove(PENDING_RETURN_TO);
        return Ok(());
    }
    session.insert(PENDING, pending).map_err(internal)
}

/// Completes a pending sign-in or step-up whose next method was proven: `methods` are all the
/// methods used now. A new sign-in starts the session (`start`); a step-up keeps the session's
/// public id (`sid`, which apps' tokens name) and sign-in time, but gets a new session key, as
/// any change of what the session is worth should.
pub fn finish_second_factor(
    session: &Session,
    user: &User,
    now: i64,
    methods: &AuthMethods,
    step_up: bool,
) -> Result<(), PageError> {
    session.remove(PENDING);
    session.remove(PENDING_RETURN_TO);
    if !step_up {
        return start(session, user, now, methods);
    }
    // A step-up adds to the sign-in it was asked for, and to no other.
    if session.get::<String>(USER_ID).ok().flatten().as_deref() != Some(user.id.as_str()) {
        return Err(PageError::SignInRequired {
            return_to: "/account".into(),
        });
    }
    session.renew();
    session.insert(METHODS, methods).map_err(internal)
}

/// Marks that the person must enrol a second factor before using anything else (the server
/// requires one, and they have none).
pub fn require_enrolment(session: &Session) -> Result<(), PageError> {
    session.insert(MUST_ENROL, true).map_err(internal)
}

/// Whether the person must still enrol a second factor.
pub fn must_enrol(session: &Session) -> bool {
    session
        .get::<bool>(MUST_ENROL)
        .ok()
        .flatten()
        .unwrap_or(false)
}

/// After a second factor (an authenticator app, a passkey) was enrolled in this session: the
/// requirement is met, and the session has just proven it, which counts as that second factor (a
/// step-up).
pub fn enrolled(session: &Session, method: AuthMethod) -> Result<(), PageError> {
    session.remove(MUST_ENROL);
    let mut methods = methods(session);
    if methods.is_empty() {
        methods.add(AuthMethod::Password);
    }
    methods.add(method);
    session.renew();
    session.insert(METHODS, methods).map_err(internal)
}

/// An authorization request that sent the person to sign in, and the session's public id then.
#[derive(serde::Serialize, serde::Deserialize)]
struct AwaitedSignIn {
    /// SHA-256 of the request's query string.
    request: String,
    /// The session's public id when the request asked (none when no one was signed in).
    sid: Option<String>,
}

fn request_key(query: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(query.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Records that the authorization request with this query string sent the person to sign in.
/// Kept in the session, never in the URL, so no one can claim a sign-in that did not happen.
pub fn await_sign_in(session: &Session, query: &str) -> Result<(), PageError> {
    let awaited = AwaitedSignIn {
        request: request_key(query),
        sid: session_id(session),
    };
    session
        .insert(AWAITED_SIGN_IN, awaited)
        .map_err(|e| AppError::internal(anyhow::anyhow!("{e}")).into())
}

/// Whether the authorization request with this query string is the one that last sent this
/// session to sign in (the sign-in page then names the app that asked, and only then: a link
/// to the sign-in page cannot make it name an app the person never came from).
pub fn awaits_sign_in_for(session: &Session, query: &str) -> bool {
    matches!(
        session.get::<AwaitedSignIn>(AWAITED_SIGN_IN),
        Ok(Some(awaited)) if awaited.request == request_key(query)
    )
}

/// Whether the person signed in after the authorization request with this query string sent
/// them to (the record is then spent, so the next such request asks again). Every sign-in gives
/// the session a new public id (`start`), so another id than the one recorded means a sign-in
/// happened since; comparing sign-in times instead could not tell two events in the same second
/// apart.
pub fn signed_in_since(session: &Session, query: &str) -> bool {
    let Ok(Some(awaited)) = session.get::<AwaitedSignIn>(AWAITED_SIGN_IN) else {
        return false;
    };
    if awaited.request != request_key(query) {
        return false;
    }
    let current = session_id(session);
    let again = current.is_some() && current != awaited.sid;
    if again {
        session.remove(AWAITED_SIGN_IN);
    }
    again
}

/// Starts a signed-in session at `now` (Unix seconds, the server's clock): a new session key
/// (against fixation), a new public id and a new CSRF token. The session records how the person
/// proved who they are (`methods`, carried into tokens as `amr` and `acr`) and where it signed in
/// from, for Settings → Sessions: the request's user agent and client address (`Meta::current()`,
/// resolved through the trusted proxies by the request middleware).
pub fn start(
    session: &Session,
    user: &User,
    now: i64,
    methods: &AuthMethods,
) -> Result<(), PageError> {
    session.renew();
    // Whatever was pending belonged to the sign-in this one replaces.
    for key in [MUST_ENROL, PENDING, PENDING_RETURN_TO] {
        session.remove(key);
    }
    session
        .insert(USER_ID, &user.id)
        .and_then(|()| session.insert(SIGNED_IN_AT, now))
        .and_then(|()| session.insert(SID, new_sid()))
        .and_then(|()| session.insert(METHODS, methods))
        .map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))?;
    for (key, value) in browser_sessions::origin_entries(&Meta::current()) {
        session
            .insert(key, value)
            .map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))?;
    }
    csrf::rotate(session)?;
    Ok(())
}

fn new_sid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// How the signed-in session proved who the person is (empty when signed in before this was
/// kept, which means a password).
pub fn methods(session: &Session) -> AuthMethods {
    session
        .get::<AuthMethods>(METHODS)
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// The session's public id, if it has one.
pub fn session_id(session: &Session) -> Option<String> {
    session.get::<String>(SID).ok().flatten()
}

/// The signed-in session as session tokens see it. A session signed in before sessions had a
/// public id gets one now.
pub fn browser_session(session: &Session) -> Result<BrowserSession> {
    let id = match session_id(session) {
        Some(id) => id,
        None => {
            let id = new_sid();
            session
                .insert(SID, &id)
                .map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))?;
            id
        }
    };
    let signed_in_at = session.get::<i64>(SIGNED_IN_AT).ok().flatten().unwrap_or(0);
    Ok(BrowserSession {
        id,
        signed_in_at,
        methods: methods(session),
    })
}

/// The signed-in account, if any; ends sessions past their absolute lifetime.
pub async fn signed_in_user(session: &Session, state: &AppState) -> Result<Option<User>> {
    let Ok(Some(id)) = session.get::<String>(USER_ID) else {
        return Ok(None);
    };
    let at = session.get::<i64>(SIGNED_IN_AT).ok().flatten().unwrap_or(0);
    if state.ctx.now() - at >= state.session_max_secs() {
        session.purge();
        return Ok(None);
    }
    // A deleted or disabled account's session ends here.
    let user = crate::domain::user_admin::signed_in(&state.ctx, &id).await?;
    if user.is_none() {
        session.purge();
    } else if session_id(session).is_none() {
        // Signed in before sessions had a public id: give it one, so the store indexes the
        // session under its person and "sign out everywhere" finds it.
        browser_session(session)?;
    }
    Ok(user)
}

/// Extractor for pages anyone may see.
pub struct MaybeUser(pub Layout);

/// Extractor for handlers that only need to know who is signed in and mostly answer with a
/// redirect (the authorization endpoint): no layout, which costs a query of the person's tenants.
pub struct SignedInUser(pub Option<User>);

/// Extractor for pages that need a signed-in account; sends others to sign in first.
pub struct CurrentUser {
    /// The account.
    pub user: User,
    /// The layout context.
    pub layout: Layout,
}

fn parts(req: &HttpRequest) -> (Session, Option<web::Data<AppState>>) {
    (
        req.get_session(),
        req.app_data::<web::Data<AppState>>().cloned(),
    )
}

fn missing_state() -> PageError {
    AppError::internal(anyhow::anyhow!("AppState not registered")).into()
}

impl FromRequest for MaybeUser {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let (session, state) = parts(req);
        let path = req.path().to_owned();
        Box::pin(async move {
            let state = state.ok_or_else(missing_state)?;
            let user = signed_in_user(&session, &state).await?;
            Ok(Self(Layout::build(&session, &state, user, &path).await?))
        })
    }
}

impl FromRequest for SignedInUser {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let (session, state) = parts(req);
        Box::pin(async move {
            let state = state.ok_or_else(missing_state)?;
            Ok(Self(signed_in_user(&session, &state).await?))
        })
    }
}

impl FromRequest for CurrentUser {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let (session, state) = parts(req);
        let path = req.path().to_owned();
        // Only a page someone navigated to is worth returning to; after a form post, go home.
        let return_to = if req.method() == actix_web::http::Method::GET {
            req.uri()
                .path_and_query()
                .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned())
        } else {
            "/account".to_owned()
        };
        Box::pin(async move {
            let state = state.ok_or_else(missing_state)?;
            match signed_in_user(&session, &state).await? {
                Some(user) => {
                    let layout = Layout::build(&session, &state, Some(user.clone()), &path).await?;
                    Ok(Self { user, layout })
                }
                None => Err(PageError::SignInRequired { return_to }),
            }
        })
    }
}
