//! The two-step sign-in and step-up. After a correct password, a person with a second factor is
//! not signed in yet: the browser session holds a `PendingSignIn` (who, the methods used so
//! far, since when) for five minutes, and `finish` proves the next method. Step-up is the same
//! step for a session already signed in, when an app needs more than a password. Either way the
//! method is an `AuthMethod`, so another kind of second factor is one more arm in `prove`.
//!
//! Events: `signin.second_factor_success`, `signin.second_factor_failure` and
//! `signin.second_factor_throttled` (with `"step_up"`), and `user.recovery_code_used`.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{has_second_factor, recovery, second_factor_required, spend_totp_code};
use crate::domain::accounts::{self, SignInRefused};
use crate::domain::audit::AuditEvent;
use crate::domain::auth_methods::{AuthMethod, AuthMethods};
use crate::domain::context::Context;
use crate::domain::notices::{self, Notice};
use crate::domain::passkeys::{self, AuthenticationState};
use crate::domain::user::User;
use crate::error::{AppError, Result};
use crate::runtime::throttle::SignInThrottle;
use crate::secret::Password;
use crate::storage;

/// How long a pending sign-in waits for its second factor.
pub const PENDING_TTL_SECS: i64 = 300;
/// Wrong codes one pending sign-in may take before it ends (the throttle counts them too).
pub const PENDING_MAX_FAILURES: u32 = 5;

/// A sign-in (or step-up) waiting for its second factor; kept in the browser session, never a
/// session of its own: nothing that needs a signed-in person accepts it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingSignIn {
    /// Who is signing in.
    pub user_id: String,
    /// Methods used so far.
    pub methods: AuthMethods,
    /// When the password was accepted (Unix seconds).
    pub started_at: i64,
    /// Wrong codes so far.
    pub failures: u32,
    /// A session already signed in asking for more (step-up), not a new sign-in.
    pub step_up: bool,
}

impl PendingSignIn {
    /// A step-up of the signed-in session of `user_id`, which used `methods`.
    pub fn step_up(user_id: &str, methods: AuthMethods, now: i64) -> Self {
        Self {
            user_id: user_id.to_owned(),
            methods,
            started_at: now,
            failures: 0,
            step_up: true,
        }
    }

    /// Whether it may still be finished at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        now - self.started_at < PENDING_TTL_SECS && self.failures < PENDING_MAX_FAILURES
    }
}

/// What a correct password leads to.
#[derive(Debug)]
pub enum AfterPassword {
    /// Signed in with the password alone; `must_enrol` when the server requires a second
    /// factor and the person has none yet.
    SignedIn {
        /// The person.
        user: User,
        /// Send them to enrol before anything else.
        must_enrol: bool,
    },
    /// A second factor is needed: keep this and ask for it.
    SecondFactor(PendingSignIn),
}

/// Signs in with an email and password (`accounts::sign_in`, with its throttle and events), then
/// decides whether a second factor is still needed.
pub async fn sign_in_with_password(
    ctx: &Context,
    throttle: &SignInThrottle,
    ip: Option<IpAddr>,
    email: &str,
    password: Password,
) -> Result<Result<AfterPassword, SignInRefused>> {
    let user = match accounts::sign_in(ctx, throttle, ip, email, password).await? {
        Ok(user) => user,
        Err(refused) => return Ok(Err(refused)),
    };
    Ok(Ok(
        after_first_factor(ctx, user, AuthMethod::Password).await?
    ))
}

/// Creates an account from the sign-up page (`accounts::sign_up`), which signs the person in
/// with their new password; `true` with it when the server requires a second factor, which a
/// new account cannot have yet.
pub async fn sign_up(
    ctx: &Context,
    policy: accounts::SignupPolicy,
    input: accounts::NewAccount,
) -> Result<(User, bool)> {
    let user = accounts::sign_up(ctx, policy, input).await?;
    let must_enrol = second_factor_required(ctx).await?;
    Ok((user, must_enrol))
}

/// What a person who has just proven `method` (a password at sign-in or sign-up) must do next.
pub async fn after_first_factor(
    ctx: &Context,
    user: User,
    method: AuthMethod,
) -> Result<AfterPassword> {
    if has_second_factor(ctx, &user.id).await? {
        return Ok(AfterPassword::SecondFactor(PendingSignIn {
            user_id: user.id,
            methods: AuthMethods::one(method),
            started_at: ctx.now(),
            failures: 0,
            step_up: false,
        }));
    }
    let must_enrol = second_factor_required(ctx).await?;
    Ok(AfterPassword::SignedIn { user, must_enrol })
}

/// Why `finish` did not complete the sign-in.
#[derive(Debug)]
pub enum SecondFactorRefused {
    /// A wrong code; the message says so.
    Incorrect(String),
    /// Too many recent failures for the account from this address.
    Throttled {
        /// Seconds until the next attempt.
        wait_secs: i64,
    },
    /// The pending sign-in expired or took too many wrong codes: start again.
    Ended,
}

/// A completed second step.
#[derive(Debug)]
pub struct Proven {
    /// The person.
    pub user: User,
    /// Every method the session has now used.
    pub methods: AuthMethods,
    /// After a recovery code: how many are left.
    pub recovery_left: Option<u64>,
}

/// What proves a second factor.
pub enum Proof<'a> {
    /// A typed code: from an authenticator app (`Totp`) or a recovery code (`RecoveryCode`).
    Code(AuthMethod, &'a str),
    /// A passkey's answer to the challenge the session kept (`None` when it kept none, or it
    /// was spent already).
    Passkey(Option<AuthenticationState>, &'a serde_json::Value),
}

impl Proof<'_> {
    /// The method it proves.
    pub fn method(&self) -> AuthMethod {
        match self {
            Self::Code(method, _) => *method,
            Self::Passkey(..) => AuthMethod::Passkey,
        }
    }
}

/// Proves a second factor for a pending sign-in or step-up. A wrong proof counts in `pending`
/// (which ends after `PENDING_MAX_FAILURES`) and against the sign-in throttle.
pub async fn finish(
    ctx: &Context,
    throttle: &SignInThrottle,
    ip: Option<IpAddr>,
    pending: &mut PendingSignIn,
    proof: Proof<'_>,
) -> Result<Result<Proven, SecondFactorRefused>> {
    let method = proof.method();
    let now = ctx.now();
    if !pending.is_live(now) {
        return Ok(Err(SecondFactorRefused::Ended));
    }
    let user = accounts::find(ctx, &pending.user_id)
        .await?
        .ok_or(AppError::Unauthenticated("Sign in again.".into()))?;
    let event = |name: &str| {
        AuditEvent::here(name)
            .by_user(&user.id)
            .detail(json!({"method": method, "step_up": pending.step_up}))
    };
    if let Err(wait_secs) = throttle.check(ip, &user.email, now).await {
        ctx.record(event("signin.second_factor_throttled").failed());
        return Ok(Err(SecondFactorRefused::Throttled { wait_secs }));
    }
    let Some(recovery_left) = prove(ctx, &user, proof).await? else {
        throttle.fail(ip, &user.email, now).await;
        ctx.record(event("signin.second_factor_failure").failed());
        pending.failures += 1;
        if !pending.is_live(now) {
            return Ok(Err(SecondFactorRefused::Ended));
        }
        return Ok(Err(SecondFactorRefused::Incorrect(
            match method {
                AuthMethod::RecoveryCode => "That recovery code is not right, or was used already.",
                AuthMethod::Passkey => "That passkey did not confirm it is you. Try again.",
                _ => "That code is not right. Type the code your app shows now.",
            }
            .into(),
        )));
    };
    ctx.record(event("signin.second_factor_success"));
    let mut methods = pending.methods.clone();
    methods.add(method);
    Ok(Ok(Proven {
        user,
        methods,
        recovery_left,
    }))
}

/// Checks one second factor: `None` when it does not prove the person, else `Some` with the
/// recovery codes left after a recovery code.
async fn prove(ctx: &Context, user: &User, proof: Proof<'_>) -> Result<Option<Option<u64>>> {
    let (method, proof) = match proof {
        Proof::Code(method, code) => (method, code),
        Proof::Passkey(state, answer) => {
            // Only this person's passkeys were asked for; any refusal is a wrong proof.
            return match passkeys::finish_authentication(ctx, state, answer).await {
                Ok(owner) => Ok((owner.id == user.id).then_some(None)),
                Err(AppError::Unauthenticated(_)) => Ok(None),
                Err(other) => Err(other),
            };
        }
    };
    match method {
        AuthMethod::Totp => Ok(spend_totp_code(ctx, &user.id, proof, false)
            .await?
            .then_some(None)),
        AuthMethod::RecoveryCode => {
            let Some(hash) = recovery::stored_hash(ctx.hasher(), &user.id, proof) else {
                return Ok(None);
            };
            if !storage::factors::spend_recovery_code(ctx.db(), &user.id, &hash, ctx.now()).await? {
                return Ok(None);
            }
            let left = storage::factors::recovery_codes_left(ctx.db(), &user.id).await?;
            ctx.record(
                AuditEvent::here("user.recovery_code_used")
                    .by_user(&user.id)
                    .target(format!("user:{}", user.id))
                    .detail(json!({"left": left})),
            );
            let remaining = usize::try_from(left).unwrap_or(usize::MAX);
            notices::send(ctx, &user.email, &Notice::RecoveryCodeUsed { remaining });
            Ok(Some(Some(left)))
        }
        // Not proven by a typed code: a password is the first step, and a passkey answers a
        // WebAuthn challenge (`Proof::Passkey`).
        AuthMethod::Password | AuthMethod::Passkey => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_sign_in_lives_five_minutes_and_five_wrong_codes() {
        let mut p = PendingSignIn::step_up("u", AuthMethods::one(AuthMethod::Password), 1000);
        assert!(p.is_live(1000 + PENDING_TTL_SECS - 1));
        assert!(!p.is_live(1000 + PENDING_TTL_SECS), "expired");
        p.failures = PENDING_MAX_FAILURES - 1;
        assert!(p.is_live(1001));
        p.failures = PENDING_MAX_FAILURES;
        assert!(!p.is_live(1001), "too many wrong codes");
    }
}
