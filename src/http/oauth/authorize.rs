//! `GET /oauth/authorize` (validate, then the step `domain::oidc_request` decides: sign in,
//! a second factor (step-up), consent page, a code, or a `prompt=none` error) and `POST /oauth/authorize` (the consent
//! form). Requests are validated by `domain::oauth` first: an unknown client or redirect URI gets
//! an HTML 400 page and never a redirect; every other error goes back to the app with `error`,
//! `error_description`, `state` and `iss` (RFC 9207), in its response mode (`reply`).
//! oxide-auth's authorization flow then issues the code.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use oxide_auth_actix::{OAuthRequest, WebError};
use oxide_auth_async::endpoint::authorization::AuthorizationFlow;
use url::Url;

use super::client_auth::param;
use super::primitives::{Decision, FlowEndpoint, OidcContext};
use super::reply;
use crate::domain::app_profile::{self, Presented};
use crate::domain::consent;
use crate::domain::factors::signin::PendingSignIn;
use crate::domain::oauth::{self, AuthorizeParams, Rejection, ValidAuthorize};
use crate::domain::oidc_request::{self, SignedIn, Step};
use crate::domain::scope;
use crate::domain::user::User;
use crate::error::AppError;
use crate::http::csrf;
use crate::http::error::{PageError, error_page};
use crate::http::pages::auth::{enrol_location, html, signin_redirect};
use crate::http::pages::see_other;
use crate::http::session::{self, Layout, MaybeUser, SignedInUser};
use crate::state::AppState;

/// One line of the consent page.
pub struct ScopeLine {
    name: &'static str,
    description: &'static str,
    is_new: bool,
}

/// `templates/consent.html`.
#[derive(Template)]
#[template(path = "consent.html")]
pub struct ConsentPage {
    layout: Layout,
    client_name: String,
    app: Presented,
    user_name: String,
    user_email: String,
    scopes: Vec<ScopeLine>,
    action: String,
    redirect_host: String,
}

fn rejected(r: Rejection) -> Result<HttpResponse, PageError> {
    match r {
        Rejection::Page(message) => Ok(error_page(
            StatusCode::BAD_REQUEST,
            "Invalid authorization request",
            &message,
        )),
        Rejection::Redirect(answer) => reply::send(answer),
        Rejection::Failed(e) => Err(e.into()),
    }
}

async fn validate(
    state: &AppState,
    http: &HttpRequest,
) -> Result<Result<ValidAuthorize, Rejection>, PageError> {
    let params = web::Query::<AuthorizeParams>::from_query(http.query_string()).map_err(|_| {
        PageError::BadRequest("The authorization request could not be read.".into())
    })?;
    Ok(oauth::validate(&state.db, &state.caches, state.tokens.issuer(), &params).await)
}

fn bad_request() -> PageError {
    PageError::BadRequest("Bad authorization request.".into())
}

/// `GET /oauth/authorize`
pub async fn authorize_get(
    http: HttpRequest,
    req: Result<OAuthRequest, WebError>,
    SignedInUser(user): SignedInUser,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let valid = match validate(&state, &http).await? {
        Ok(v) => v,
        Err(r) => return rejected(r),
    };
    let query = http.query_string();
    let signed_in = match &user {
        Some(user) => Some(SignedIn {
            user_id: &user.id,
            signed_in_at: session::browser_session(&session)?.signed_in_at,
            signed_in_again: session::signed_in_since(&session, query),
            multi_factor: session::methods(&session).is_multi_factor(),
        }),
        None => None,
    };
    match oidc_request::next_step(&state.ctx, &valid, signed_in.as_ref()).await? {
        Step::SignIn { again } => {
            session::await_sign_in(&session, query)?;
            let return_to = format!("/oauth/authorize?{query}");
            let hint = valid.interaction.login_hint.as_deref();
            Ok(signin_redirect(&return_to, hint, again))
        }
        Step::Refuse(answer) => reply::send(answer),
        Step::SecondFactor { enrol } => {
            let return_to = format!("/oauth/authorize?{query}");
            let user = user.as_ref().ok_or_else(bad_request)?;
            if enrol {
                return Ok(see_other(&enrol_location(&return_to)));
            }
            let methods = session::methods(&session);
            let pending = PendingSignIn::step_up(&user.id, methods, state.ctx.now());
            session::hold_pending(&session, &pending, &return_to)?;
            Ok(see_other("/signin/second-factor"))
        }
        Step::Issue { user_id } => {
            let req = req.map_err(|_| bad_request())?;
            run_flow(
                &state,
                &http,
                req,
                valid,
                Decision::Allow(user_id),
                &session,
            )
            .await
        }
        Step::Consent { new_scopes } => {
            let app = app_profile::presented(&state.ctx, &valid.client).await?;
            // Only the consent page needs the layout.
            let layout = Layout::for_session(&session, &state, user).await?;
            let page = consent_page(layout, app, &valid, &new_scopes, &http)?;
            Ok(html(StatusCode::OK, &page)?)
        }
    }
}

fn consent_page(
    mut layout: Layout,
    app: Presented,
    valid: &ValidAuthorize,
    new: &scope::ScopeSet,
    http: &HttpRequest,
) -> Result<ConsentPage, PageError> {
    // The page stands alone: the decision, not the account's settings.
    layout.bare = true;
    let user: &User = layout.user.as_ref().ok_or_else(bad_request)?;
    Ok(ConsentPage {
        client_name: valid.client.name.clone(),
        app,
        user_name: user.name.clone(),
        user_email: user.email.clone(),
        scopes: valid
            .scopes
            .iter()
            .map(|s| ScopeLine {
                name: s,
                description: scope::describe(s),
                is_new: new.has(s),
            })
            .collect(),
        action: format!("/oauth/authorize?{}", http.query_string()),
        redirect_host: Url::parse(&valid.redirect_uri)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default(),
        layout,
    })
}

/// `POST /oauth/authorize`: the consent form (Allow or Deny).
pub async fn authorize_post(
    http: HttpRequest,
    req: Result<OAuthRequest, WebError>,
    MaybeUser(layout): MaybeUser,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let req = req.map_err(|_| bad_request())?;
    if !csrf::verify(&session, param(&req, csrf::FIELD).as_deref()) {
        return Err(PageError::Csrf);
    }
    let Some(user) = layout.user else {
        let return_to = format!("/oauth/authorize?{}", http.query_string());
        return Err(PageError::SignInRequired { return_to });
    };
    let valid = match validate(&state, &http).await? {
        Ok(v) => v,
        Err(r) => return rejected(r),
    };
    let allowed = param(&req, "decision").as_deref() == Some("allow");
    consent::answer(&state.ctx, &user.id, &valid.client, &valid.scopes, allowed).await?;
    let decision = if allowed {
        Decision::Allow(user.id.clone())
    } else {
        Decision::Deny
    };
    run_flow(&state, &http, req, valid, decision, &session).await
}

async fn run_flow(
    state: &AppState,
    http: &HttpRequest,
    req: OAuthRequest,
    valid: ValidAuthorize,
    decision: Decision,
    session: &Session,
) -> Result<HttpResponse, PageError> {
    // OpenID Connect Core §2 `auth_time`: when this browser session signed in; `sid`
    // (Front-Channel Logout 1.0 §3): the session's public id.
    let browser = session::browser_session(session).ok();
    let oidc = OidcContext {
        nonce: valid.nonce,
        auth_time: browser.as_ref().map(|s| s.signed_in_at).filter(|t| *t > 0),
        methods: browser.as_ref().map(|s| s.methods.clone()),
        sid: browser.map(|s| s.id),
    };
    let (redirect_uri, mode) = (valid.redirect_uri, valid.response_mode);
    let endpoint = FlowEndpoint::new(state, valid.client, decision, oidc);
    let outcome = match AuthorizationFlow::prepare(endpoint) {
        Ok(mut flow) => flow.execute(req).await,
        Err(e) => Err(e),
    };
    let response =
        outcome.map_err(|e| AppError::internal(anyhow::anyhow!("authorization flow: {e}")))?;
    let answer = reply::from_flow(http, response, &redirect_uri, mode, &valid.issuer)?;
    reply::send(answer)
}
