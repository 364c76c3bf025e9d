//! Creating accounts, signing in and changing a password. Each operation records its own audit
//! event (`account.created`, `signin.success`, `signin.failure`, `signin.throttled`,
//! `user.password_changed`, `user.password_change_failed`), whoever asked: the pages or
//! `portcullis user create`. With mail, sign-up mails a link confirming the address and a
//! changed password is reported to the account's address. Every password hash and check goes
//! through the server's `HashGate` (see `domain::password`), so a burst of them is refused with
//! `Busy` rather than grow the process without bound.

use std::net::IpAddr;

use serde_json::json;

use crate::domain::audit::AuditEvent;
use crate::domain::bounded;
use crate::domain::context::{Actor, Context};
use crate::domain::notices::{self, Notice};
use crate::domain::password::{self, PasswordHash};
use crate::domain::policy::ServerAction;
use crate::domain::user::{DisplayName, Email, User};
use crate::error::{AppError, Result};
use crate::runtime::cache::Caches;
use crate::runtime::hash_gate::HashGate;
use crate::runtime::invalidation::Stale;
use crate::runtime::throttle::SignInThrottle;
use crate::secret::Password;
use crate::storage::{self, Db};

/// What a sign-up form or `portcullis user create` supplies.
#[derive(Debug)]
pub struct NewAccount {
    /// Raw email as typed.
    pub email: String,
    /// Raw display name as typed.
    pub name: String,
    /// The chosen password.
    pub password: Password,
}

/// Who may create an account through the public sign-up page.
#[derive(Debug, Clone, Copy)]
pub enum SignupPolicy {
    /// Anyone.
    Open,
    /// Only the very first account (which becomes the administrator).
    FirstAccountOnly,
}

/// Marks that the first account, the administrator, has been handed out.
const FIRST_ACCOUNT: &str = "first_account_claimed";

/// Why a sign-in did not let the person in.
#[derive(Debug)]
pub enum SignInRefused {
    /// Too many recent failures from this address, for this account or across accounts: try
    /// again in `wait_secs`.
    Throttled {
        /// Seconds until the next attempt is allowed.
        wait_secs: i64,
    },
    /// Too many passwords being checked at once on this server: try again in
    /// `retry_after_secs`. Nothing was checked, so nothing counts as a failure.
    Busy {
        /// Seconds after which a retry is likely to be admitted.
        retry_after_secs: u64,
    },
    /// Wrong email or password; the message says so without saying which.
    Incorrect(String),
}

/// Creates an account from the sign-up page. The first account ever created is an administrator:
/// of simultaneous first sign-ups exactly one claims that, the others are ordinary accounts (or,
/// with sign-up closed, refused).
pub async fn sign_up(ctx: &Context, policy: SignupPolicy, input: NewAccount) -> Result<User> {
    let db = ctx.db();
    // Refuse bad input before claiming anything.
    Email::parse(&input.email)?;
    DisplayName::parse(&input.name)?;
    password::validate(&input.password)?;
    let first = storage::users::count_users(db).await? == 0
        && storage::secrets::claim(db, FIRST_ACCOUNT, ctx.now()).await?;
    if !first && matches!(policy, SignupPolicy::FirstAccountOnly) {
        return Err(AppError::Forbidden(
            "Sign-up is closed on this server. Ask an administrator for an account.".into(),
        ));
    }
    let created = insert(ctx, input, first).await;
    if first && created.is_err() {
        storage::secrets::release(db, FIRST_ACCOUNT).await?;
    }
    let user = created?;
    ctx.record(
        AuditEvent::here("account.created")
            .by_user(&user.id)
            .detail(json!({"admin": user.is_admin})),
    );
    // The account exists whatever happens to its link; the person can ask for another.
    if let Err(e) = crate::domain::email_verification::mail_link(ctx, &user).await {
        tracing::warn!(error = %e, "could not issue an address confirmation link");
    }
    Ok(user)
}

/// Whether no account exists yet (the pages then offer to create the administrator).
pub async fn first_run(ctx: &Context) -> Result<bool> {
    Ok(storage::users::count_users(ctx.db()).await? == 0)
}

/// Creates an account directly (the operator at the command line, or a server administrator).
pub async fn create(
    ctx: &Context,
    by: Actor<'_>,
    input: NewAccount,
    is_admin: bool,
) -> Result<User> {
    ctx.policy()
        .authorize_server(by, ServerAction::CreateAccount)?;
    let user = insert(ctx, input, is_admin).await?;
    ctx.record(
        by.stamp(AuditEvent::here("account.created"))
            .about(Some(&user.id))
            .target(format!("user:{}", user.id))
            .detail(json!({"admin": user.is_admin})),
    );
    Ok(user)
}

async fn insert(ctx: &Context, input: NewAccount, is_admin: bool) -> Result<User> {
    let db = ctx.db();
    let email = Email::parse(&input.email)?;
    let name = DisplayName::parse(&input.name)?;
    password::validate(&input.password)?;
    let hash = password::hash(ctx.hash_gate(), input.password).await?;
    let user = storage::users::insert_user(db, &email, &name, &hash, is_admin, ctx.now()).await?;
    crate::domain::tenant::personal(db, &user, ctx.now()).await?;
    Ok(user)
}

/// Signs a person in with an email and password, throttled after repeated failures per source
/// address and account, and per source address across accounts. Every wrong answer (malformed
/// email, unknown account, wrong password) is the same `Incorrect` and costs one argon2
/// verification through the hash gate, so the answer reveals nothing about which accounts exist.
/// Only an address longer than any can be is refused at once, as a validation error: it names
/// no account.
pub async fn sign_in(
    ctx: &Context,
    throttle: &SignInThrottle,
    ip: Option<IpAddr>,
    email: &str,
    password: Password,
) -> Result<Result<User, SignInRefused>> {
    // An address longer than any can be is refused before any lookup or throttle entry; the
    // audit event keeps only its fingerprint.
    let email = match bounded::email(email) {
        Ok(email) => email,
        Err(refused) => {
            ctx.record(
                AuditEvent::here("signin.failure")
                    .failed()
                    .detail(json!({"email": email})),
            );
            return Err(refused);
        }
    };
    let now = ctx.now();
    if let Err(wait_secs) = throttle.check(ip, email, now).await {
        ctx.record(
            AuditEvent::here("signin.throttled")
                .failed()
                .detail(json!({"email": email})),
        );
        return Ok(Err(SignInRefused::Throttled { wait_secs }));
    }
    match check_password(ctx.db(), ctx.hash_gate(), email, password).await {
        // Said only after the right password, so it reveals nothing to anyone else.
        Ok(user) if !user.is_active() => Ok(Err(crate::domain::user_admin::refuse_disabled(
            ctx, &user, "password",
        ))),
        Ok(user) => {
            ctx.record(AuditEvent::here("signin.success").by_user(&user.id));
            Ok(Ok(user))
        }
        Err(AppError::Busy { retry_after_secs }) => {
            Ok(Err(SignInRefused::Busy { retry_after_secs }))
        }
        Err(AppError::Unauthenticated(message)) => {
            throttle.fail(ip, email, now).await;
            let subject = find_by_email(ctx.db(), email).await?.map(|u| u.id);
            ctx.record(
                AuditEvent::here("signin.failure")
                    .about(subject.as_deref())
                    .failed()
                    .detail(json!({"email": email})),
            );
            Ok(Err(SignInRefused::Incorrect(message)))
        }
        Err(other) => Err(other),
    }
}

/// Checks an email and password; every failure is the same `Unauthenticated`.
async fn check_password(db: &Db, gate: &HashGate, email: &str, password: Password) -> Result<User> {
    let found = match Email::parse(email) {
        Ok(email) => storage::users::find_with_hash_by_email(db, &email).await?,
        Err(_) => None,
    };
    let (user, hash): (Option<User>, Option<PasswordHash>) = match found {
        Some((user, hash)) => (Some(user), Some(hash)),
        None => (None, None),
    };
    if password::verify(gate, password, hash).await?
        && let Some(user) = user
    {
        return Ok(user);
    }
    Err(AppError::Unauthenticated(
        "Incorrect email or password.".into(),
    ))
}

/// What a change-password form supplies.
#[derive(Debug)]
pub struct PasswordChange {
    /// The password now in use, proving it is the person at this browser.
    pub current: Password,
    /// The new password.
    pub new: Password,
    /// The new password again, against typing mistakes.
    pub again: Password,
}

/// What a password change ended besides the old password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordChanged {
    /// Other browser sessions signed out.
    pub sessions: u64,
    /// Session tokens revoked.
    pub session_tokens: usize,
    /// Apps' token families (their refresh and access tokens) revoked.
    pub token_families: u64,
}

/// Changes a signed-in person's password, only with the current one (OWASP ASVS 5.0 V6.2). The
/// current password is checked like a sign-in: throttled, and a wrong one counts against the
/// same budgets as a failed sign-in for the account's email from this address, so an unattended
/// browser is no way round the sign-in throttle. The new password must pass the policy and be
/// typed twice alike.
///
/// Then, at once, every other browser session of the person ends (`keep_sid`, the one asking,
/// stays), every session token of theirs is revoked, and every token family apps hold for them
/// (refresh tokens and the access tokens issued with them): whoever knew the old password, or
/// holds what it let in, must sign in again (RFC 9700 §4.14.2).
pub async fn change_password(
    ctx: &Context,
    throttle: &SignInThrottle,
    ip: Option<IpAddr>,
    user: &User,
    keep_sid: Option<&str>,
    change: PasswordChange,
) -> Result<Result<PasswordChanged, SignInRefused>> {
    let now = ctx.now();
    let failed = |reason: &str| {
        AuditEvent::here("user.password_change_failed")
            .by_user(&user.id)
            .failed()
            .detail(json!({"reason": reason}))
    };
    if let Err(wait_secs) = throttle.check(ip, &user.email, now).await {
        ctx.record(failed("throttled"));
        return Ok(Err(SignInRefused::Throttled { wait_secs }));
    }
    // Cheap checks first: no password is hashed for a form that cannot succeed.
    password::validate(&change.new)?;
    if !change.new.matches(change.again.expose()) {
        return Err(AppError::validation(
            "new_password_again",
            "The two new passwords do not match.",
        ));
    }
    if let Err(refused) = verify_current(ctx, throttle, ip, user, change.current, &failed).await? {
        return Ok(Err(refused));
    }
    let hash = match password::hash(ctx.hash_gate(), change.new).await {
        Err(AppError::Busy { retry_after_secs }) => {
            return Ok(Err(SignInRefused::Busy { retry_after_secs }));
        }
        other => other?,
    };
    let ended =
        storage::users::replace_password(ctx.db(), &user.id, &hash, keep_sid, ctx.now()).await?;
    ctx.caches().invalidate(Stale::REVOKED);
    let changed = PasswordChanged {
        sessions: ended.sessions,
        session_tokens: ended.session_tokens.len(),
        token_families: ended.token_families,
    };
    ctx.record(
        AuditEvent::here("user.password_changed")
            .by_user(&user.id)
            .target(format!("user:{}", user.id))
            .detail(json!({
                "sessions_ended": changed.sessions,
                "session_tokens_revoked": changed.session_tokens,
                "token_families_revoked": changed.token_families,
            })),
    );
    crate::domain::session_tokens::record_revoked(
        ctx,
        &ended.session_tokens,
        "password_changed",
        ("user", &user.id),
    );
    notices::send(ctx, &user.email, &Notice::PasswordChanged);
    Ok(Ok(changed))
}

/// Checks a signed-in person's current password before a change it guards (password, email
/// address), like a sign-in: a wrong one counts against the same budgets as a failed sign-in
/// for the account's email from this address, and is recorded as `failed("incorrect_password")`.
/// The caller checks the throttle first.
pub(crate) async fn verify_current(
    ctx: &Context,
    throttle: &SignInThrottle,
    ip: Option<IpAddr>,
    user: &User,
    current: Password,
    failed: &dyn Fn(&str) -> AuditEvent,
) -> Result<Result<(), SignInRefused>> {
    let checked = check_current(ctx, throttle, ip, user, current).await?;
    if matches!(checked, Err(SignInRefused::Incorrect(_))) {
        ctx.record(failed("incorrect_password"));
    }
    Ok(checked)
}

/// Checks a signed-in person's current password before a sensitive change (removing a second
/// factor), counted like a sign-in: throttled, and a wrong one spends the same budgets as a
/// failed sign-in for the account from this address. The caller records what failed.
pub async fn confirm_password(
    ctx: &Context,
    throttle: &SignInThrottle,
    ip: Option<IpAddr>,
    user: &User,
    password: Password,
) -> Result<Result<(), SignInRefused>> {
    if let Err(wait_secs) = throttle.check(ip, &user.email, ctx.now()).await {
        return Ok(Err(SignInRefused::Throttled { wait_secs }));
    }
    check_current(ctx, throttle, ip, user, password).await
}

/// The current-password check both of the above share: a wrong one is a failure in the
/// throttle's budgets for the account from this address.
async fn check_current(
    ctx: &Context,
    throttle: &SignInThrottle,
    ip: Option<IpAddr>,
    user: &User,
    current: Password,
) -> Result<Result<(), SignInRefused>> {
    let stored = storage::users::find_hash(ctx.db(), &user.id).await?;
    match password::verify(ctx.hash_gate(), current, stored).await {
        Ok(true) => Ok(Ok(())),
        Ok(false) => {
            throttle.fail(ip, &user.email, ctx.now()).await;
            Ok(Err(SignInRefused::Incorrect(
                "Your current password is not correct.".into(),
            )))
        }
        Err(AppError::Busy { retry_after_secs }) => {
            Ok(Err(SignInRefused::Busy { retry_after_secs }))
        }
        Err(other) => Err(other),
    }
}

/// The account with this id, if any.
pub async fn find(ctx: &Context, id: &str) -> Result<Option<User>> {
    find_in(ctx.db(), id).await
}

/// `find` on a bare storage handle (the policy's own lookups).
pub(crate) async fn find_in(db: &Db, id: &str) -> Result<Option<User>> {
    storage::users::find_user(db, id).await
}

/// Like `find`, from the cache when the account was read recently (see `runtime::cache`).
pub async fn find_cached(ctx: &Context, id: &str) -> Result<Option<User>> {
    find_cached_in(ctx.db(), ctx.caches(), id).await
}

/// `find_cached` on bare handles (the policy's own lookups).
pub(crate) async fn find_cached_in(db: &Db, caches: &Caches, id: &str) -> Result<Option<User>> {
    caches
        .users()
        .get_or_load(id, storage::users::find_user(db, id))
        .await
}

/// The account with this email, if any (malformed emails have none).
async fn find_by_email(db: &Db, email: &str) -> Result<Option<User>> {
    match Email::parse(email) {
        Ok(e) => Ok(storage::users::find_with_hash_by_email(db, &e)
            .await?
            .map(|(u, _)| u)),
        Err(_) => Ok(None),
    }
}
