//! A passkey as the second step after a password (or for step-up), run by `static/passkeys.js`
//! from `/signin/second-factor`: `POST /signin/second-factor/passkey/start` asks for one of the
//! pending person's passkeys and keeps the challenge in the session;
//! `POST /signin/second-factor/passkey/finish` spends it on the answer through the same
//! `signin::finish` as a typed code (throttle, failure count, events) and says where to go next.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::domain::factors::signin::{self, PendingSignIn, Proof, SecondFactorRefused};
use crate::domain::passkeys::{self, AuthenticationState};
use crate::error::AppError;
use crate::http::csrf::CsrfJson;
use crate::http::error::ApiError;
use crate::http::session;
use crate::state::AppState;

/// Session key of the challenge under way.
const CHALLENGE: &str = "second_factor_passkey";

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::for_browser(AppError::internal(anyhow::anyhow!("{e}")))
}

fn sign_in_again() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "sign_in_ended",
        "This sign-in has ended. Sign in again.",
    )
}

/// The pending sign-in or step-up, while it may still be finished.
fn live_pending(session: &Session, state: &AppState) -> Result<(PendingSignIn, String), ApiError> {
    match session::pending(session) {
        Some((pending, return_to)) if pending.is_live(state.ctx.now()) => Ok((pending, return_to)),
        _ => Err(sign_in_again()),
    }
}

/// `POST /signin/second-factor/passkey/start`: the options for `navigator.credentials.get`,
/// naming only the pending person's passkeys.
pub async fn start_post(
    _: CsrfJson<serde_json::Value>,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (pending, _) = live_pending(&session, &state)?;
    let (options, ceremony) = passkeys::start_authentication(&state.ctx, Some(&pending.user_id))
        .await
        .map_err(ApiError::for_browser)?;
    session.insert(CHALLENGE, ceremony).map_err(internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(options))
}

/// `POST /signin/second-factor/passkey/finish`: `{"redirect": path}` once the step is done; 401
/// for an answer that does not prove the person (or an ended sign-in), 429 with `Retry-After`
/// while throttled.
pub async fn finish_post(
    CsrfJson(answer): CsrfJson<serde_json::Value>,
    session: Session,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (mut pending, return_to) = live_pending(&session, &state)?;
    // Taken out before anything is checked: a challenge is answered at most once.
    let ceremony = session
        .remove_as::<AuthenticationState>(CHALLENGE)
        .and_then(Result::ok);
    let ip = crate::http::meta::client_ip(&req);
    let outcome = signin::finish(
        &state.ctx,
        &state.signin_throttle,
        ip,
        &mut pending,
        Proof::Passkey(ceremony, &answer),
    )
    .await
    .map_err(ApiError::for_browser)?;
    match outcome {
        Ok(proven) => {
            let now = state.ctx.now();
            session::finish_second_factor(
                &session,
                &proven.user,
                now,
                &proven.methods,
                pending.step_up,
            )
            .map_err(internal)?;
            tracing::info!(user_id = %proven.user.id, "second factor accepted (passkey)");
            let next = if return_to.is_empty() {
                "/account".to_owned()
            } else {
                return_to
            };
            Ok(HttpResponse::Ok()
                .insert_header((CACHE_CONTROL, "no-store"))
                .json(json!({"redirect": next})))
        }
        Err(SecondFactorRefused::Incorrect(message)) => {
            session::update_pending(&session, &pending, false).map_err(internal)?;
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "authentication_failed",
                message,
            ))
        }
        Err(SecondFactorRefused::Throttled { wait_secs }) => Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "Too many failed attempts. Try again in {} minute(s).",
                (wait_secs + 59) / 60
            ),
        )
        .retry_after(wait_secs)),
        Err(SecondFactorRefused::Ended) => {
            session::update_pending(&session, &pending, true).map_err(internal)?;
            Err(sign_in_again())
        }
    }
}
