//! "Sign in with a passkey" on the sign-in page, run by `static/passkeys.js`:
//! `POST /signin/passkey/start` answers the options for `navigator.credentials.get` (no account
//! named: the browser offers the passkeys it holds for this server) and keeps the challenge in
//! the session; `POST /signin/passkey/finish` takes the answer, spends the challenge, signs the
//! person in and says where to go next.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::domain::accounts::SignInRefused;
use crate::domain::auth_methods::{AuthMethod, AuthMethods};
use crate::domain::passkeys::{self, AuthenticationState};
use crate::domain::return_to::safe_return_path;
use crate::error::AppError;
use crate::http::csrf::CsrfJson;
use crate::http::error::ApiError;
use crate::http::session;
use crate::state::AppState;

/// Session key of the passkey sign-in under way.
const PENDING: &str = "passkey_signin";

/// A passkey sign-in under way: its challenge, and where to go once signed in.
#[derive(Serialize, Deserialize)]
struct Pending {
    ceremony: AuthenticationState,
    return_to: String,
}

/// Body of `POST /signin/passkey/start`.
#[derive(Deserialize)]
pub struct StartSignIn {
    #[serde(default)]
    return_to: String,
}

fn no_store(mut res: actix_web::HttpResponseBuilder, body: serde_json::Value) -> HttpResponse {
    res.insert_header((CACHE_CONTROL, "no-store")).json(body)
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::for_browser(AppError::internal(anyhow::anyhow!("{e}")))
}

/// `POST /signin/passkey/start`
pub async fn start_post(
    CsrfJson(body): CsrfJson<StartSignIn>,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (options, ceremony) = passkeys::start_authentication(&state.ctx, None)
        .await
        .map_err(ApiError::for_browser)?;
    let pending = Pending {
        ceremony,
        // Only a same-site path is kept, as for the password form (`safe_return_path`).
        return_to: safe_return_path(&body.return_to)
            .unwrap_or_default()
            .to_owned(),
    };
    session.insert(PENDING, pending).map_err(internal)?;
    let options = serde_json::to_value(options).map_err(internal)?;
    Ok(no_store(HttpResponse::Ok(), options))
}

/// `POST /signin/passkey/finish`: `{"redirect": path}` once signed in; 401 for any answer that
/// does not sign anyone in, 429 with `Retry-After` while the address is throttled.
pub async fn finish_post(
    CsrfJson(credential): CsrfJson<serde_json::Value>,
    session: Session,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    // Taken out before anything is checked: a challenge is answered at most once.
    let pending = session.remove_as::<Pending>(PENDING).and_then(Result::ok);
    let (ceremony, return_to) = match pending {
        Some(p) => (Some(p.ceremony), p.return_to),
        None => (None, String::new()),
    };
    let ip = crate::http::meta::client_ip(&req);
    let outcome = passkeys::sign_in(
        &state.ctx,
        &state.signin_throttle,
        ip,
        ceremony,
        &credential,
    )
    .await
    .map_err(ApiError::for_browser)?;
    match outcome {
        Ok(user) => {
            let methods = AuthMethods::one(AuthMethod::Passkey);
            session::start(&session, &user, state.ctx.now(), &methods).map_err(internal)?;
            tracing::info!(user_id = %user.id, "signed in with a passkey");
            let redirect = if return_to.is_empty() {
                "/account".to_owned()
            } else {
                return_to
            };
            Ok(no_store(HttpResponse::Ok(), json!({"redirect": redirect})))
        }
        Err(SignInRefused::Throttled { wait_secs }) => Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "Too many failed attempts. Try again in {} minute(s).",
                (wait_secs + 59) / 60
            ),
        )
        .retry_after(wait_secs)),
        Err(SignInRefused::Incorrect(message)) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "authentication_failed",
            message,
        )),
        Err(SignInRefused::Busy { retry_after_secs }) => {
            Err(ApiError::for_browser(AppError::Busy { retry_after_secs }))
        }
    }
}
