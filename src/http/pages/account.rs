//! The account page — the invitations waiting for the person, their session tokens and "sign
//! out everywhere" — accepting and declining an invitation, and the root redirect.

use actix_session::Session;
use actix_web::{HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;

use super::{EmptyForm, see_other};
use crate::domain::credentials::format_time;
use crate::domain::membership::{self, Pending};
use crate::domain::principal::Principal;
use crate::http::csrf::CsrfForm;
use crate::http::error::PageError;
use crate::http::layout::flash;
use crate::http::session::{self, CurrentUser, Layout, MaybeUser};
use crate::state::AppState;

/// One live session token as a table row (its id and dates, never the token).
pub struct TokenRow {
    jti: String,
    name: String,
    created: String,
    expires: String,
    this_browser: bool,
}

/// `templates/account.html`.
#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
pub struct AccountPage {
    layout: Layout,
    member_since: String,
    invitations: Vec<(Pending, String)>,
    session_tokens: Vec<TokenRow>,
}

/// A time as the pages show it: `2026-12-01 09:30:00 UTC`.
pub(super) fn when(at: i64) -> String {
    format_time(at).replace('T', " ").replace('Z', " UTC")
}

fn date(at: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!("[year]-[month]-[day]"))
                .ok()
        })
        .unwrap_or_default()
}

/// `GET /account`
pub async fn account_get(
    current: CurrentUser,
    session: Session,
    state: web::Data<AppState>,
) -> Result<AccountPage, PageError> {
    let invitations = membership::pending_for(&state.ctx, &Principal::session(&current.user))
        .await?
        .into_iter()
        .map(|p| {
            let expires = format_time(p.invitation.expires_at);
            (p, expires)
        })
        .collect();
    let here = session::session_id(&session);
    let session_tokens = state
        .session_tokens
        .list(&current.user.id)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            this_browser: here.as_deref() == Some(t.sid.as_str()),
            name: t.name.unwrap_or_default(),
            created: when(t.created_at),
            expires: when(t.expires_at),
            jti: t.jti,
        })
        .collect();
    Ok(AccountPage {
        member_since: date(current.user.created_at),
        layout: current.layout,
        invitations,
        session_tokens,
    })
}

/// `POST /account/invitations/{id}/accept`: the person joins the tenant with the invited role.
pub async fn invitation_accept_post(
    _: CsrfForm<EmptyForm>,
    id: web::Path<String>,
    current: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    membership::accept(&state.ctx, &Principal::session(&current.user), &id).await?;
    flash(&session, "Invitation accepted.")?;
    Ok(see_other("/account"))
}

/// `POST /account/invitations/{id}/decline`
pub async fn invitation_decline_post(
    _: CsrfForm<EmptyForm>,
    id: web::Path<String>,
    current: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    membership::decline(&state.ctx, &Principal::session(&current.user), &id).await?;
    flash(&session, "Invitation declined.")?;
    Ok(see_other("/account"))
}

/// `POST /account/session-tokens/{jti}/revoke`: the others keep working.
pub async fn session_token_revoke_post(
    _: CsrfForm<EmptyForm>,
    jti: web::Path<String>,
    current: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    state.session_tokens.revoke(&current.user.id, &jti).await?;
    flash(&session, "Session token revoked.")?;
    Ok(see_other("/account#session-tokens"))
}

/// `POST /account/sign-out-everywhere`: ends every browser session of the person, this one
/// included, and every session token.
pub async fn sign_out_everywhere_post(
    _: CsrfForm<EmptyForm>,
    current: CurrentUser,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    state
        .session_tokens
        .sign_out_everywhere(&current.user.id)
        .await?;
    session.purge();
    Ok(see_other("/signin"))
}

/// `GET /`: the account page for the signed-in, the sign-in page for everyone else.
pub async fn home_get(MaybeUser(layout): MaybeUser) -> HttpResponse {
    let to = if layout.user.is_some() {
        "/account"
    } else {
        "/signin"
    };
    see_other(to)
}
