//! OpenID Connect RP-Initiated Logout 1.0: `GET /oauth/logout` (the end-session endpoint),
//! `POST /oauth/logout` (the same request sent as a form), and `POST /oauth/logout/confirm`
//! (the person's answer on the confirmation page). The rules are in `domain::logout`.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::domain::logout::{self, Current, EndSessionParams, LogoutPlan, LogoutRefusal};
use crate::http::csrf::CsrfForm;
use crate::http::error::{PageError, error_page};
use crate::http::pages::auth::html;
use crate::http::pages::see_other;
use crate::http::session::{self, Layout, MaybeUser};
use crate::state::AppState;

/// `templates/logout.html`: "Sign out?"
#[derive(Template)]
#[template(path = "logout.html")]
pub struct LogoutPage {
    layout: Layout,
    app_name: Option<String>,
    params: EndSessionParams,
}

fn refused(r: LogoutRefusal) -> Result<HttpResponse, PageError> {
    match r {
        LogoutRefusal::Invalid(message) => Ok(error_page(
            StatusCode::BAD_REQUEST,
            "Invalid sign-out request",
            message,
        )),
        LogoutRefusal::Failed(e) => Err(e.into()),
    }
}

async fn plan(
    state: &AppState,
    layout: &Layout,
    session: &Session,
    params: &EndSessionParams,
) -> Result<LogoutPlan, LogoutRefusal> {
    let sid = session::session_id(session);
    let current = layout.user.as_ref().map(|u| Current {
        user_id: &u.id,
        sid: sid.as_deref(),
    });
    let keys = state.tokens.keys().current();
    logout::plan(&state.ctx, &keys, params, current).await
}

/// Signs the person out (when signed in) and sends them where the app asked, or to sign in.
async fn sign_out(
    state: &AppState,
    layout: &Layout,
    session: &Session,
    plan: LogoutPlan,
) -> Result<HttpResponse, PageError> {
    if let Some(user) = &layout.user {
        let sid = session::session_id(session);
        let current = Current {
            user_id: &user.id,
            sid: sid.as_deref(),
        };
        logout::end(
            &state.ctx,
            &state.browser_sessions,
            current,
            plan.client_id.as_deref(),
        )
        .await?;
    }
    session.purge();
    Ok(see_other(
        plan.redirect.as_ref().map_or("/signin", |u| u.as_str()),
    ))
}

/// `GET /oauth/logout`: signs out at once when the `id_token_hint` names this browser session,
/// otherwise asks first.
pub async fn end_session_get(
    http: HttpRequest,
    MaybeUser(layout): MaybeUser,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let Ok(params) = web::Query::<EndSessionParams>::from_query(http.query_string()) else {
        return refused(LogoutRefusal::Invalid(
            "The sign-out request could not be read.",
        ));
    };
    let plan = match plan(&state, &layout, &session, &params).await {
        Ok(plan) => plan,
        Err(r) => return refused(r),
    };
    if plan.confirm {
        let page = LogoutPage {
            layout,
            app_name: plan.app_name,
            params: params.into_inner(),
        };
        return Ok(html(StatusCode::OK, &page)?);
    }
    sign_out(&state, &layout, &session, plan).await
}

/// `POST /oauth/logout`: the same request as a form (§2: both methods). An app's form post is
/// cross-site, so the browser sends no (SameSite) session cookie with it: the request goes on
/// as a `GET`, which a top-level navigation makes with the cookie.
pub async fn end_session_post(
    form: Result<web::Form<EndSessionParams>, actix_web::Error>,
) -> Result<HttpResponse, PageError> {
    let Ok(form) = form else {
        return refused(LogoutRefusal::Invalid(
            "The sign-out request could not be read.",
        ));
    };
    let query = serde_urlencoded::to_string(form.into_inner())
        .map_err(|e| crate::error::AppError::internal(anyhow::anyhow!("{e}")))?;
    Ok(see_other(&format!("/oauth/logout?{query}")))
}

/// `POST /oauth/logout/confirm`: the person chose to sign out. The request is checked again,
/// so a changed field cannot sneak an unregistered redirect through.
pub async fn end_session_confirm_post(
    CsrfForm(params): CsrfForm<EndSessionParams>,
    MaybeUser(layout): MaybeUser,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    match plan(&state, &layout, &session, &params).await {
        Ok(plan) => sign_out(&state, &layout, &session, plan).await,
        Err(r) => refused(r),
    }
}
