//! `GET /oauth/authorize` (validate, sign in, consent page or remembered consent) and
//! `POST /oauth/authorize` (the consent form). Requests are validated by `domain::oauth` first:
//! an unknown client or redirect URI gets an HTML 400 page and never a redirect; every other
//! error goes back to the app with `error`, `error_description`, `state` and `iss` (RFC 9207).
//! oxide-auth's authorization flow then issues the code.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, Responder, web};
use askama::Template;
use oxide_auth_actix::{OAuthRequest, OAuthResponse, WebError};
use oxide_auth_async::endpoint::authorization::AuthorizationFlow;
use url::Url;

use super::client_auth::param;
use super::primitives::{Decision, FlowEndpoint, OidcContext};
use crate::domain::consent;
use crate::domain::oauth::{self, AuthorizeParams, Rejection, ValidAuthorize};
use crate::domain::scope;
use crate::domain::user::User;
use crate::error::AppError;
use crate::http::csrf;
use crate::http::error::{PageError, error_page};
use crate::http::pages::auth::html;
use crate::http::session::{Layout, MaybeUser};
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
        Rejection::Redirect(url) => Ok(see_other(url.as_str())),
        Rejection::Failed(e) => Err(e.into()),
    }
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, location))
        .finish()
}

async fn validate(
    state: &AppState,
    http: &HttpRequest,
) -> Result<Result<ValidAuthorize, Rejection>, PageError> {
    let params = web::Query::<AuthorizeParams>::from_query(http.query_string()).map_err(|_| {
        PageError::BadRequest("The authorization request could not be read.".into())
    })?;
    Ok(oauth::validate(&state.db, state.tokens.issuer(), &params).await)
}

/// `GET /oauth/authorize`
pub async fn authorize_get(
    http: HttpRequest,
    req: Result<OAuthRequest, WebError>,
    MaybeUser(layout): MaybeUser,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let valid = match validate(&state, &http).await? {
        Ok(v) => v,
        Err(r) => return rejected(r),
    };
    let Some(user) = layout.user.clone() else {
        let return_to = format!("/oauth/authorize?{}", http.query_string());
        return Err(PageError::SignInRequired { return_to });
    };
    let existing = consent::find(&state.ctx, &user.id, &valid.client.id).await?;
    match consent::needs_prompt(
        &valid.client,
        existing.as_ref(),
        &valid.scopes,
        valid.prompt_consent,
    ) {
        None => {
            let req =
                req.map_err(|_| PageError::BadRequest("Bad authorization request.".into()))?;
            let decision = Decision::Allow(user.id);
            run_flow(&state, &http, req, valid, decision, &session).await
        }
        Some(new_scopes) => {
            // "new" only means something next to scopes approved before.
            let new_scopes = if existing.is_some() {
                new_scopes
            } else {
                scope::ScopeSet::default()
            };
            let page = consent_page(layout, &user, &valid, &new_scopes, &http);
            Ok(html(StatusCode::OK, &page)?)
        }
    }
}

fn consent_page(
    layout: Layout,
    user: &User,
    valid: &ValidAuthorize,
    new: &scope::ScopeSet,
    http: &HttpRequest,
) -> ConsentPage {
    ConsentPage {
        layout,
        client_name: valid.client.name.clone(),
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
    }
}

/// `POST /oauth/authorize`: the consent form (Allow or Deny).
pub async fn authorize_post(
    http: HttpRequest,
    req: Result<OAuthRequest, WebError>,
    MaybeUser(layout): MaybeUser,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let req = req.map_err(|_| PageError::BadRequest("Bad authorization request.".into()))?;
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
    let browser = crate::http::session::browser_session(session).ok();
    let oidc = OidcContext {
        nonce: valid.nonce,
        auth_time: browser.as_ref().map(|s| s.signed_in_at).filter(|t| *t > 0),
        sid: browser.map(|s| s.id),
    };
    let endpoint = FlowEndpoint::new(state, valid.client, decision, oidc);
    let outcome = match AuthorizationFlow::prepare(endpoint) {
        Ok(mut flow) => flow.execute(req).await,
        Err(e) => Err(e),
    };
    let response =
        outcome.map_err(|e| AppError::internal(anyhow::anyhow!("authorization flow: {e}")))?;
    finish(http, response, state.tokens.issuer())
}

/// Turns oxide-auth's redirect into the RFC's: 303, `error_description` (not `description`),
/// and the issuer (RFC 9207).
fn finish(
    http: &HttpRequest,
    resp: OAuthResponse,
    issuer: &str,
) -> Result<HttpResponse, PageError> {
    let location = resp
        .get_headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let Some(location) = location else {
        let status = resp.respond_to(http).status();
        return Err(AppError::internal(anyhow::anyhow!(
            "authorization flow answered {status} without a redirect"
        ))
        .into());
    };
    let mut url = Url::parse(&location).map_err(AppError::internal)?;
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            (
                if k == "description" {
                    "error_description".into()
                } else {
                    k.into_owned()
                },
                v.into_owned(),
            )
        })
        .filter(|(k, _)| k != "iss")
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair("iss", issuer);
    Ok(see_other(url.as_str()))
}
