//! Second factors: an authenticator app (`totp`) with its recovery codes (`recovery`), the
//! two-step sign-in and step-up (`signin`), and the administrators' levers — a second factor
//! for everyone, and resetting a person's factors. Every operation records its own audit event
//! (`user.totp_enrolled`, `user.totp_enrolment_failed`, `user.totp_removed`,
//! `user.recovery_codes_generated`, `user.recovery_code_used`, `user.factors_reset`,
//! `server.second_factor_required`, and the sign-in events in `signin`).
//!
//! Codes are checked against the sign-in throttle (`SignInThrottle`, keyed by the account's
//! email and the source address), so a wrong code costs what a wrong password costs.

pub mod recovery;
pub mod signin;
pub mod totp;

use crate::domain::notices::{self, Notice};
use crate::storage::factors::FactorSet;
use std::net::IpAddr;

use serde_json::json;

use crate::domain::accounts::{self, SignInRefused};
use crate::domain::audit::AuditEvent;
use crate::domain::context::{Actor, Context};
use crate::domain::policy::ServerAction;
use crate::domain::user::User;
use crate::error::{AppError, Result};
use crate::runtime::throttle::SignInThrottle;
use crate::secret::Password;
use crate::storage;

/// A person's authenticator app as stored: the sealed seed, whether enrolment was confirmed,
/// and the newest time step accepted.
#[derive(Clone)]
pub struct StoredTotp {
    /// The seed, sealed under the server key (`totp::sealing_context`).
    pub sealed: String,
    /// Confirmed by a first valid code.
    pub confirmed: bool,
    /// Newest time step accepted (codes of it and older steps are refused).
    pub last_step: Option<i64>,
}

impl std::fmt::Debug for StoredTotp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredTotp")
            .field("sealed", &"REDACTED")
            .field("confirmed", &self.confirmed)
            .field("last_step", &self.last_step)
            .finish()
    }
}

/// An enrolment waiting for its first code: what the page shows.
pub struct Enrolment {
    /// The seed as text, for typing in.
    pub seed_text: String,
    /// The `otpauth://` QR code, as SVG markup.
    pub qr_svg: String,
}

/// What Settings → Security shows.
pub struct Overview {
    /// An authenticator app is enrolled.
    pub totp: bool,
    /// Unused recovery codes.
    pub recovery_left: u64,
    /// Without an app: the enrolment in progress.
    pub enrolment: Option<Enrolment>,
}

/// The server setting that requires a second factor of everyone.
const REQUIRE_SECOND_FACTOR: &str = "require_second_factor";

/// Whether the person has a second factor: a confirmed authenticator app or a passkey.
pub async fn has_second_factor(ctx: &Context, user_id: &str) -> Result<bool> {
    Ok(has_totp(ctx, user_id).await? || has_passkey(ctx, user_id).await?)
}

/// Whether the person has a confirmed authenticator app.
pub async fn has_totp(ctx: &Context, user_id: &str) -> Result<bool> {
    Ok(storage::factors::find_totp(ctx.db(), user_id)
        .await?
        .is_some_and(|t| t.confirmed))
}

/// Whether the person has a passkey (one the second step after a password accepts too).
pub async fn has_passkey(ctx: &Context, user_id: &str) -> Result<bool> {
    storage::passkeys::any(ctx.db(), user_id).await
}

/// Settings → Security: the person's factors, and without an app an enrolment to show (the one
/// in progress, so reloading the page keeps the same QR code, or a new one).
pub async fn overview(ctx: &Context, user: &User, issuer: &str) -> Result<Overview> {
    let db = ctx.db();
    let stored = storage::factors::find_totp(db, &user.id).await?;
    let recovery_left = storage::factors::recovery_codes_left(db, &user.id).await?;
    if stored.as_ref().is_some_and(|t| t.confirmed) {
        return Ok(Overview {
            totp: true,
            recovery_left,
            enrolment: None,
        });
    }
    let sealer = ctx.sealer()?;
    let context = totp::sealing_context(&user.id);
    let seed = match stored.and_then(|t| sealer.open(&t.sealed, &context)) {
        Some(seed) => seed,
        None => {
            let seed = totp::new_seed();
            let sealed = sealer
                .seal(&seed, &context)
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("sealing failed")))?;
            if !storage::factors::begin_totp(db, &user.id, &sealed, ctx.now()).await? {
                return Err(AppError::Conflict(
                    "An authenticator app is already set up.".into(),
                ));
            }
            seed
        }
    };
    let host = url::Url::parse(issuer)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "Portcullis".into());
    let uri = totp::otpauth_uri(&seed, &format!("Portcullis ({host})"), &user.email);
    Ok(Overview {
        totp: false,
        recovery_left,
        enrolment: Some(Enrolment {
            seed_text: totp::seed_text(&seed),
            qr_svg: totp::qr_svg(&uri)?,
        }),
    })
}

/// Checks an authenticator code for the person and, when right, spends its time step. With
/// `confirming`, only an enrolment in progress is checked (and confirmed); otherwise only a
/// confirmed app.
pub(crate) async fn spend_totp_code(
    ctx: &Context,
    user_id: &str,
    code: &str,
    confirming: bool,
) -> Result<bool> {
    let Some(stored) = storage::factors::find_totp(ctx.db(), user_id).await? else {
        return Ok(false);
    };
    if stored.confirmed == confirming {
        return Ok(false);
    }
    let seed = ctx
        .sealer()?
        .open(&stored.sealed, &totp::sealing_context(user_id))
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("a TOTP seed does not open")))?;
    let Some(step) = totp::matching_step(&seed, code, ctx.now(), stored.last_step)? else {
        return Ok(false);
    };
    // Conditional on the step still being newer than the last accepted: of two requests with
    // one code, one wins.
    storage::factors::accept_step(ctx.db(), user_id, step, confirming).await
}

/// Confirms an enrolment with its first code and makes the recovery codes, returned to be
/// shown once. A wrong code counts against the sign-in throttle.
pub async fn confirm_enrolment(
    ctx: &Context,
    throttle: &SignInThrottle,
    ip: Option<IpAddr>,
    user: &User,
    code: &str,
) -> Result<Result<Vec<String>, SignInRefused>> {
    let now = ctx.now();
    if let Err(wait_secs) = throttle.check(ip, &user.email, now).await {
        return Ok(Err(SignInRefused::Throttled { wait_secs }));
    }
    if !spend_totp_code(ctx, &user.id, code, true).await? {
        throttle.fail(ip, &user.email, now).await;
        ctx.record(
            AuditEvent::here("user.totp_enrolment_failed")
                .by_user(&user.id)
                .failed(),
        );
        return Ok(Err(SignInRefused::Incorrect(
            "That code is not right. Check the time on your device, and type the code the app \
             shows now."
                .into(),
        )));
    }
    ctx.record(
        AuditEvent::here("user.totp_enrolled")
            .by_user(&user.id)
            .target(format!("user:{}", user.id)),
    );
    let factor = "authenticator app";
    notices::send(ctx, &user.email, &Notice::FactorEnrolled { factor });
    Ok(Ok(new_recovery_codes(ctx, user).await?))
}

/// A new set of recovery codes for a person with an authenticator app; the old set is void.
pub async fn regenerate_recovery_codes(ctx: &Context, user: &User) -> Result<Vec<String>> {
    if !has_totp(ctx, &user.id).await? {
        return Err(AppError::Conflict(
            "Set up an authenticator app first: recovery codes stand in for it.".into(),
        ));
    }
    new_recovery_codes(ctx, user).await
}

async fn new_recovery_codes(ctx: &Context, user: &User) -> Result<Vec<String>> {
    let codes = recovery::generate();
    let hashes = codes
        .iter()
        .filter_map(|c| recovery::stored_hash(ctx.hasher(), &user.id, c))
        .collect::<Vec<_>>();
    storage::factors::replace_recovery_codes(ctx.db(), &user.id, &hashes, ctx.now()).await?;
    ctx.record(
        AuditEvent::here("user.recovery_codes_generated")
            .by_user(&user.id)
            .target(format!("user:{}", user.id))
            .detail(json!({"count": hashes.len()})),
    );
    Ok(codes)
}

/// What proves it is the person when removing their authenticator app.
pub enum Reauthentication<'a> {
    /// Their current password.
    Password(Password),
    /// A code from the app.
    Code(&'a str),
}

/// Removes the person's authenticator app and recovery codes, with their password or a code
/// (either counted against the sign-in throttle when wrong).
pub async fn remove_totp(
    ctx: &Context,
    throttle: &SignInThrottle,
    ip: Option<IpAddr>,
    user: &User,
    proof: Reauthentication<'_>,
) -> Result<Result<(), SignInRefused>> {
    let now = ctx.now();
    let proven = match proof {
        Reauthentication::Password(p) => {
            accounts::confirm_password(ctx, throttle, ip, user, p).await?
        }
        Reauthentication::Code(code) => {
            if let Err(wait_secs) = throttle.check(ip, &user.email, now).await {
                Err(SignInRefused::Throttled { wait_secs })
            } else if spend_totp_code(ctx, &user.id, code, false).await? {
                Ok(())
            } else {
                throttle.fail(ip, &user.email, now).await;
                Err(SignInRefused::Incorrect("That code is not right.".into()))
            }
        }
    };
    if let Err(refused) = proven {
        ctx.record(
            AuditEvent::here("user.totp_removal_failed")
                .by_user(&user.id)
                .failed(),
        );
        return Ok(Err(refused));
    }
    let deleted =
        storage::factors::delete_factors(ctx.db(), &user.id, FactorSet::AppAndCodes).await?;
    ctx.record(
        AuditEvent::here("user.totp_removed")
            .by_user(&user.id)
            .target(format!("user:{}", user.id))
            .detail(json!({
                "had_app": deleted.totp,
                "recovery_codes_removed": deleted.recovery_codes,
            })),
    );
    Ok(Ok(()))
}

/// An administrator removes every second factor of a person (their app, recovery codes and
/// passkeys):
/// they sign in with their password alone until they enrol again. Their sessions keep going.
pub async fn reset(ctx: &Context, by: Actor<'_>, user_id: &str) -> Result<()> {
    ctx.policy()
        .authorize_server(by, ServerAction::ResetFactors)?;
    let user = accounts::find(ctx, user_id)
        .await?
        .ok_or(AppError::NotFound("Person"))?;
    let deleted = storage::factors::delete_factors(ctx.db(), &user.id, FactorSet::All).await?;
    ctx.record(
        by.stamp(AuditEvent::here("user.factors_reset"))
            .about(Some(&user.id))
            .target(format!("user:{}", user.id))
            .detail(json!({
                "totp": deleted.totp,
                "recovery_codes": deleted.recovery_codes,
                "passkeys": deleted.passkeys,
            })),
    );
    Ok(())
}

/// Whether every person must have a second factor (off until an administrator turns it on).
pub async fn second_factor_required(ctx: &Context) -> Result<bool> {
    Ok(
        storage::factors::find_setting(ctx.db(), REQUIRE_SECOND_FACTOR)
            .await?
            .is_some_and(|v| v == "true"),
    )
}

/// Turns the requirement of a second factor for everyone on or off.
pub async fn set_second_factor_required(
    ctx: &Context,
    by: Actor<'_>,
    required: bool,
) -> Result<()> {
    ctx.policy()
        .authorize_server(by, ServerAction::RequireSecondFactor)?;
    if second_factor_required(ctx).await? == required {
        return Ok(());
    }
    let value = if required { "true" } else { "false" };
    storage::factors::put_setting(ctx.db(), REQUIRE_SECOND_FACTOR, value, ctx.now()).await?;
    ctx.record(
        by.stamp(AuditEvent::here("server.second_factor_required"))
            .target("server")
            .detail(json!({"required": required})),
    );
    Ok(())
}
