//! Proving who one is with a passkey. `start_authentication` asks either for any passkey of
//! this server (discoverable: no one named, the authenticator says whose it is) or for one of a
//! given person's (a second step after their password); `finish_authentication` checks the
//! answer, advances the passkey's signature counter and returns whose it is. `sign_in` is the
//! passkey-only sign-in on top: throttled per source address, audited like a password sign-in.
//!
//! A counter that does not move forward (WebAuthn §6.1.1: the key may have been cloned) is
//! refused and recorded as `passkey.counter_regressed`; so is the loser of two uses racing with
//! one counter value.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::json;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, DiscoverableKey, PasskeyAuthentication, PublicKeyCredential,
    RequestChallengeResponse, Uuid, WebauthnError,
};

use super::register::parse_stored;
use super::{CEREMONY_SECS, relying_party};
use crate::domain::accounts::{self, SignInRefused};
use crate::domain::audit::AuditEvent;
use crate::domain::context::Context;
use crate::domain::user::User;
use crate::error::{AppError, Result};
use crate::runtime::throttle::SignInThrottle;
use crate::storage;

/// An authentication under way: its challenge, when it started, and whose passkeys it accepts.
/// Kept server-side until `finish_authentication`, never sent to the browser.
#[derive(Serialize, Deserialize)]
pub struct AuthenticationState {
    started_at: i64,
    ceremony: Ceremony,
}

#[derive(Serialize, Deserialize)]
enum Ceremony {
    /// Any registered passkey.
    Discoverable(DiscoverableAuthentication),
    /// Only a passkey of this person.
    Person {
        user_id: String,
        state: PasskeyAuthentication,
    },
}

/// Starts an authentication: `for_user` `None` accepts any registered passkey (the browser
/// offers the ones it holds for this server), `Some` only that person's (`NotFound` when they
/// have none). Returns the options for `navigator.credentials.get` and the state to finish with.
pub async fn start_authentication(
    ctx: &Context,
    for_user: Option<&str>,
) -> Result<(RequestChallengeResponse, AuthenticationState)> {
    let webauthn = relying_party(ctx)?.webauthn();
    let failed =
        |e: WebauthnError| AppError::internal(anyhow::anyhow!("starting an authentication: {e}"));
    let (mut options, ceremony) = match for_user {
        None => {
            let (options, state) = webauthn
                .start_discoverable_authentication()
                .map_err(failed)?;
            (options, Ceremony::Discoverable(state))
        }
        Some(user_id) => {
            let keys = storage::passkeys::list(ctx.db(), user_id)
                .await?
                .iter()
                .map(parse_stored)
                .collect::<Result<Vec<_>>>()?;
            if keys.is_empty() {
                return Err(AppError::NotFound("Passkey"));
            }
            let (options, state) = webauthn
                .start_passkey_authentication(&keys)
                .map_err(failed)?;
            let user_id = user_id.to_owned();
            (options, Ceremony::Person { user_id, state })
        }
    };
    // webauthn-rs marks discoverable requests for conditional mediation (autofill); here a
    // button asks, so the browser's ordinary passkey dialog is wanted.
    options.mediation = None;
    let state = AuthenticationState {
        started_at: ctx.now(),
        ceremony,
    };
    Ok((options, state))
}

/// Why an authentication was refused: a reason for the audit log, and whose passkey it was
/// when that much is known.
struct Refusal {
    reason: &'static str,
    subject: Option<String>,
}

fn refuse(reason: &'static str) -> Refusal {
    Refusal {
        reason,
        subject: None,
    }
}

/// Finishes an authentication with the browser's answer (`credential`, the JSON of the
/// `PublicKeyCredential`): the account whose passkey answered. `state` is what the session kept
/// (`None` when there was none, or it was used already): each state finishes at most once.
/// Every refusal is the same `Unauthenticated`.
pub async fn finish_authentication(
    ctx: &Context,
    state: Option<AuthenticationState>,
    credential: &serde_json::Value,
) -> Result<User> {
    verify(ctx, state, credential)
        .await?
        .map_err(|_| AppError::Unauthenticated(REFUSED.into()))
}

const REFUSED: &str = "That passkey did not sign you in. Try again.";

async fn verify(
    ctx: &Context,
    state: Option<AuthenticationState>,
    credential: &serde_json::Value,
) -> Result<Result<User, Refusal>> {
    let webauthn = relying_party(ctx)?.webauthn();
    let Some(state) = state else {
        return Ok(Err(refuse("no_challenge")));
    };
    if ctx.now() - state.started_at > CEREMONY_SECS {
        return Ok(Err(refuse("expired")));
    }
    let Ok(answer) = serde_json::from_value::<PublicKeyCredential>(credential.clone()) else {
        return Ok(Err(refuse("malformed")));
    };
    let Ok(credential_id) = super::encode_credential_id(answer.get_credential_id()) else {
        return Ok(Err(refuse("malformed")));
    };
    let Some(stored) = storage::passkeys::find_by_credential_id(ctx.db(), &credential_id).await?
    else {
        return Ok(Err(refuse("unknown_passkey")));
    };
    let owner = || Some(stored.user_id.clone());
    let mut passkey = parse_stored(&stored)?;
    let checked = match state.ceremony {
        Ceremony::Discoverable(ceremony) => {
            // The user handle the authenticator returns must be the passkey's owner's.
            let handle = webauthn.identify_discoverable_authentication(&answer);
            let owner_handle = Uuid::parse_str(&stored.user_id).ok();
            if handle.ok().map(|(h, _)| h) != owner_handle {
                return Ok(Err(Refusal {
                    reason: "wrong_user_handle",
                    subject: owner(),
                }));
            }
            let key = DiscoverableKey::from(&passkey);
            webauthn.finish_discoverable_authentication(&answer, ceremony, &[key])
        }
        Ceremony::Person { user_id, state } => {
            if user_id != stored.user_id {
                return Ok(Err(Refusal {
                    reason: "another_persons_passkey",
                    subject: Some(user_id),
                }));
            }
            webauthn.finish_passkey_authentication(&answer, &state)
        }
    };
    let result = match checked {
        Ok(result) => result,
        Err(WebauthnError::CredentialPossibleCompromise) => {
            counter_regressed(ctx, &stored.user_id, &stored.id);
            return Ok(Err(Refusal {
                reason: "counter_regressed",
                subject: owner(),
            }));
        }
        Err(e) => {
            tracing::info!(error = %e, "passkey authentication refused");
            return Ok(Err(Refusal {
                reason: "verification_failed",
                subject: owner(),
            }));
        }
    };
    passkey.update_credential(&result);
    let to = result.counter().max(stored.sign_count);
    let json = serde_json::to_string(&passkey).map_err(AppError::internal)?;
    let now = ctx.now();
    if !storage::passkeys::record_use(ctx.db(), &stored.id, stored.sign_count, to, &json, now)
        .await?
    {
        // Another use moved the counter (or removed the passkey) since it was read.
        counter_regressed(ctx, &stored.user_id, &stored.id);
        return Ok(Err(Refusal {
            reason: "counter_regressed",
            subject: owner(),
        }));
    }
    match accounts::find(ctx, &stored.user_id).await? {
        Some(user) => Ok(Ok(user)),
        None => Ok(Err(refuse("unknown_account"))),
    }
}

fn counter_regressed(ctx: &Context, user_id: &str, passkey_id: &str) {
    ctx.record(
        AuditEvent::here("passkey.counter_regressed")
            .about(Some(user_id))
            .target(format!("passkey:{passkey_id}"))
            .failed()
            .detail(json!({"why": "the signature counter did not move forward: the key may have been cloned"})),
    );
}

/// Signs a person in with a passkey alone: `finish_authentication` behind the sign-in
/// throttle's per-address budget (no account is named before the passkey answers, so the
/// per-account budget cannot apply), audited as `signin.success` or `signin.failure` with
/// `"method": "passkey"`.
pub async fn sign_in(
    ctx: &Context,
    throttle: &SignInThrottle,
    ip: Option<IpAddr>,
    state: Option<AuthenticationState>,
    credential: &serde_json::Value,
) -> Result<Result<User, SignInRefused>> {
    let now = ctx.now();
    if let Err(wait_secs) = throttle.check_address(ip, now).await {
        ctx.record(
            AuditEvent::here("signin.throttled")
                .failed()
                .detail(json!({"method": "passkey"})),
        );
        return Ok(Err(SignInRefused::Throttled { wait_secs }));
    }
    match verify(ctx, state, credential).await? {
        Ok(user) if !user.is_active() => Ok(Err(crate::domain::user_admin::refuse_disabled(
            ctx, &user, "passkey",
        ))),
        Ok(user) => {
            ctx.record(
                AuditEvent::here("signin.success")
                    .by_user(&user.id)
                    .detail(json!({"method": "passkey"})),
            );
            Ok(Ok(user))
        }
        Err(refusal) => {
            throttle.fail_address(ip, now).await;
            ctx.record(
                AuditEvent::here("signin.failure")
                    .about(refusal.subject.as_deref())
                    .failed()
                    .detail(json!({"method": "passkey", "reason": refusal.reason})),
            );
            Ok(Err(SignInRefused::Incorrect(REFUSED.into())))
        }
    }
}
