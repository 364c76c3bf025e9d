//! Registering a passkey: `start_registration` makes the creation options for the browser and
//! the state to keep in the session; `finish_registration` checks the authenticator's answer
//! against that state and stores the new passkey. Registration asks for a discoverable
//! (resident) credential, so the passkey alone can sign its owner in, with user verification
//! required, and excludes the person's registered passkeys, so one authenticator is not
//! registered twice.

use crate::domain::notices::{self, Notice};
use serde::{Deserialize, Serialize};
use serde_json::json;
use webauthn_rs::prelude::{
    CreationChallengeResponse, PasskeyRegistration, RegisterPublicKeyCredential, Uuid,
};
use webauthn_rs_proto::{ResidentKeyRequirement, UserVerificationPolicy};

use super::{
    CEREMONY_SECS, MAX_PER_PERSON, StoredPasskey, encode_credential_id, parse_name, relying_party,
};
use crate::domain::audit::AuditEvent;
use crate::domain::context::Context;
use crate::domain::user::User;
use crate::error::{AppError, Result};
use crate::storage;

/// A registration under way: for whom, the name they chose, when it started, and the
/// challenge. Kept server-side until `finish_registration`, never sent to the browser.
#[derive(Serialize, Deserialize)]
pub struct RegistrationState {
    user_id: String,
    name: String,
    started_at: i64,
    ceremony: PasskeyRegistration,
}

/// Starts registering a passkey called `name` for `user`: the options for
/// `navigator.credentials.create` and the state to finish with.
pub async fn start_registration(
    ctx: &Context,
    user: &User,
    name: &str,
) -> Result<(CreationChallengeResponse, RegistrationState)> {
    let rp = relying_party(ctx)?;
    let name = parse_name(name)?;
    let existing = storage::passkeys::list(ctx.db(), &user.id).await?;
    if existing.len() >= MAX_PER_PERSON {
        return Err(AppError::validation(
            "name",
            format!("You have {MAX_PER_PERSON} passkeys, the most allowed. Remove one first."),
        ));
    }
    let handle = user_handle(user)?;
    let exclude = existing
        .iter()
        .filter_map(|p| parse_stored(p).ok())
        .map(|p| p.cred_id().clone())
        .collect();
    let (mut options, ceremony) = rp
        .webauthn()
        .start_passkey_registration(handle, &user.email, &user.name, Some(exclude))
        .map_err(|e| AppError::internal(anyhow::anyhow!("starting a registration: {e}")))?;
    // webauthn-rs leaves residency to the authenticator; a passkey that signs in without a
    // username must be discoverable (WebAuthn §5.4.6), so ask for one outright.
    if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
        selection.resident_key = Some(ResidentKeyRequirement::Required);
        selection.require_resident_key = true;
        selection.user_verification = UserVerificationPolicy::Required;
    }
    let state = RegistrationState {
        user_id: user.id.clone(),
        name,
        started_at: ctx.now(),
        ceremony,
    };
    Ok((options, state))
}

/// Finishes a registration with the browser's answer (`credential`, the JSON of the new
/// `PublicKeyCredential`) and stores the passkey. `state` is the registration the session kept
/// (`None` when there was none, or it was used already): each state finishes at most once.
pub async fn finish_registration(
    ctx: &Context,
    user: &User,
    state: Option<RegistrationState>,
    credential: &serde_json::Value,
) -> Result<StoredPasskey> {
    let rp = relying_party(ctx)?;
    let start_again = |what: &str| {
        AppError::validation(
            "credential",
            format!("{what} Start adding the passkey again."),
        )
    };
    let state = state.ok_or_else(|| start_again("No passkey registration is under way."))?;
    if state.user_id != user.id {
        return Err(start_again(
            "That registration was started by someone else.",
        ));
    }
    if ctx.now() - state.started_at > CEREMONY_SECS {
        return Err(start_again("The registration took too long."));
    }
    let answer: RegisterPublicKeyCredential = serde_json::from_value(credential.clone())
        .map_err(|_| start_again("The browser's answer could not be read."))?;
    let passkey = rp
        .webauthn()
        .finish_passkey_registration(&answer, &state.ceremony)
        .map_err(|e| {
            tracing::info!(error = %e, "passkey registration refused");
            start_again("The authenticator's answer did not check out.")
        })?;
    let stored = StoredPasskey {
        id: Uuid::now_v7().to_string(),
        user_id: user.id.clone(),
        credential_id: encode_credential_id(passkey.cred_id().as_ref())?,
        name: state.name,
        passkey: serde_json::to_string(&passkey).map_err(AppError::internal)?,
        sign_count: 0,
        created_at: ctx.now(),
        last_used_at: None,
    };
    storage::passkeys::insert(ctx.db(), &stored).await?;
    ctx.record(
        AuditEvent::here("passkey.registered")
            .by_user(&user.id)
            .target(format!("passkey:{}", stored.id))
            .detail(json!({"name": stored.name})),
    );
    let factor = "passkey";
    notices::send(ctx, &user.email, &Notice::FactorEnrolled { factor });
    Ok(stored)
}

/// The WebAuthn user handle of an account: its id's 16 bytes, which the authenticator hands
/// back at a discoverable sign-in (never the email, which may change and would leak).
fn user_handle(user: &User) -> Result<Uuid> {
    Uuid::parse_str(&user.id).map_err(AppError::internal)
}

/// A stored passkey's credential.
pub(super) fn parse_stored(p: &StoredPasskey) -> Result<webauthn_rs::prelude::Passkey> {
    serde_json::from_str(&p.passkey).map_err(AppError::internal)
}
