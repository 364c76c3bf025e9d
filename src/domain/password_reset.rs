//! "Forgot password": a link mailed to the account's address lets the person choose a new
//! password (`domain::email_tokens`: valid 30 minutes, single-use, the newest replacing older
//! ones). Asking gives the same answer whether the address has an account or not, and is
//! throttled per source and per target address (`runtime::mail_throttle`). The reset goes
//! through the password policy and the hash gate, ends every session, session token and app
//! token family of the person (as a password change does, keeping none), marks the address
//! verified (the person read mail sent to it) and tells the address. Without mail, an
//! administrator resets the password at the command line (`reset_by_operator`).
//!
//! Recorded: `user.password_reset_requested`, `user.password_reset`.

use std::net::IpAddr;

use serde_json::json;

use crate::domain::accounts::PasswordChanged;
use crate::domain::audit::AuditEvent;
use crate::domain::bounded;
use crate::domain::context::{Actor, Context};
use crate::domain::email_tokens::{self, Purpose};
use crate::domain::notices::{self, Notice};
use crate::domain::password;
use crate::domain::policy::ServerAction;
use crate::domain::user::{Email, User};
use crate::error::{AppError, Result};
use crate::runtime::invalidation::Stale;
use crate::runtime::mail_throttle::MailThrottle;
use crate::secret::Password;
use crate::storage;

/// Asks for a reset link to `email`. `Ok(Ok(()))` whether or not an account has the address
/// (and for one no account could have); `Ok(Err(wait_secs))` when throttled. Without mail,
/// nothing happens.
pub async fn request(
    ctx: &Context,
    throttle: &MailThrottle,
    ip: Option<IpAddr>,
    email: &str,
) -> Result<Result<(), i64>> {
    let Some(outbox) = ctx.outbox() else {
        return Ok(Ok(()));
    };
    // Bounded before it is kept in a throttle key or the audit log.
    let typed = bounded::text(email.trim(), bounded::EMAIL);
    if let Err(wait_secs) = throttle.take(ip, "reset", &typed, ctx.now()).await {
        ctx.record(
            AuditEvent::here("user.password_reset_requested")
                .failed()
                .detail(json!({"email": typed, "reason": "throttled"})),
        );
        return Ok(Err(wait_secs));
    }
    let found = match Email::parse(&typed) {
        Ok(email) => storage::users::find_user_by_email(ctx.db(), &email).await?,
        Err(_) => None,
    };
    let event = AuditEvent::here("user.password_reset_requested")
        .about(found.as_ref().map(|u| u.id.as_str()))
        .detail(json!({"email": typed, "account": found.is_some()}));
    ctx.record(event);
    if let Some(user) = found {
        let token = email_tokens::issue(ctx, &user.id, &user.email, Purpose::PasswordReset).await?;
        let link = outbox.link(Purpose::PasswordReset, &token);
        notices::send(ctx, &user.email, &Notice::PasswordReset { link });
    }
    Ok(Ok(()))
}

/// Whether `token` opens an unused, unexpired reset link (the page then offers the form).
pub async fn link_is_valid(ctx: &Context, token: &str) -> Result<bool> {
    Ok(email_tokens::find(ctx, Purpose::PasswordReset, token)
        .await?
        .is_some())
}

/// What the reset form supplies.
#[derive(Debug)]
pub struct NewPassword {
    /// The new password.
    pub new: Password,
    /// The new password again, against typing mistakes.
    pub again: Password,
}

/// Why a reset did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetRefused {
    /// The link is unknown, used, expired or replaced (which, is not said).
    Link,
    /// Too many passwords being hashed: try again in `retry_after_secs`; the link still works.
    Busy {
        /// Seconds after which a retry is likely to be admitted.
        retry_after_secs: u64,
    },
}

/// Sets a new password with a reset link. A password the policy refuses, or two that differ,
/// are validation errors and leave the link usable.
pub async fn reset(
    ctx: &Context,
    token: &str,
    input: NewPassword,
) -> Result<Result<PasswordChanged, ResetRefused>> {
    if !link_is_valid(ctx, token).await? {
        return Ok(Err(ResetRefused::Link));
    }
    check_new(&input)?;
    let hash = match password::hash(ctx.hash_gate(), input.new).await {
        Err(AppError::Busy { retry_after_secs }) => {
            return Ok(Err(ResetRefused::Busy { retry_after_secs }));
        }
        other => other?,
    };
    // Taken only now: of two resets racing with one link, one wins.
    let Some(link) = email_tokens::take(ctx, Purpose::PasswordReset, token).await? else {
        return Ok(Err(ResetRefused::Link));
    };
    let user = storage::users::find_user(ctx.db(), &link.user_id)
        .await?
        .ok_or(AppError::NotFound("Account"))?;
    let changed = replace(ctx, &user, &hash).await?;
    let verified =
        storage::users::verify_email_if_current(ctx.db(), &user.id, &link.email, ctx.now()).await?;
    ctx.caches().invalidate(Stale::USERS);
    ctx.record(
        AuditEvent::here("user.password_reset")
            .by_user(&user.id)
            .target(format!("user:{}", user.id))
            .detail(details(
                &changed.0,
                json!({"via": "link", "email_verified": verified}),
            )),
    );
    crate::domain::session_tokens::record_revoked(
        ctx,
        &changed.1,
        "password_reset",
        ("user", &user.id),
    );
    notices::send(ctx, &user.email, &Notice::PasswordChanged);
    Ok(Ok(changed.0))
}

/// Sets a person's password for them (the operator at the command line, when the server has
/// no mail): the same policy, and the same sessions and tokens end.
pub async fn reset_by_operator(
    ctx: &Context,
    by: Actor<'_>,
    email: &str,
    new: Password,
) -> Result<PasswordChanged> {
    ctx.policy()
        .authorize_server(by, ServerAction::ManagePeople)?;
    password::validate(&new)?;
    let email = Email::parse(email)?;
    let user = storage::users::find_user_by_email(ctx.db(), &email)
        .await?
        .ok_or(AppError::NotFound("Person"))?;
    let hash = password::hash(ctx.hash_gate(), new).await?;
    let changed = replace(ctx, &user, &hash).await?;
    // A link mailed before opens nothing now.
    storage::email_tokens::delete(ctx.db(), &user.id, Purpose::PasswordReset).await?;
    ctx.record(
        by.stamp(AuditEvent::here("user.password_reset"))
            .about(Some(&user.id))
            .target(format!("user:{}", user.id))
            .detail(details(&changed.0, json!({"via": "operator"}))),
    );
    notices::send(ctx, &user.email, &Notice::PasswordChanged);
    Ok(changed.0)
}

fn check_new(input: &NewPassword) -> Result<()> {
    password::validate(&input.new)?;
    if !input.new.matches(input.again.expose()) {
        return Err(AppError::validation(
            "new_password_again",
            "The two new passwords do not match.",
        ));
    }
    Ok(())
}

type Ended = (
    PasswordChanged,
    Vec<crate::domain::session_tokens::SessionToken>,
);

/// Stores the new hash and ends everything the old password let in, keeping no session.
async fn replace(ctx: &Context, user: &User, hash: &password::PasswordHash) -> Result<Ended> {
    let ended = storage::users::replace_password(ctx.db(), &user.id, hash, None, ctx.now()).await?;
    ctx.caches().invalidate(Stale::REVOKED);
    let changed = PasswordChanged {
        sessions: ended.sessions,
        session_tokens: ended.session_tokens.len(),
        token_families: ended.token_families,
    };
    Ok((changed, ended.session_tokens))
}

/// The audit detail of a reset: what it ended, and `extra`.
fn details(changed: &PasswordChanged, mut extra: serde_json::Value) -> serde_json::Value {
    extra["sessions_ended"] = json!(changed.sessions);
    extra["session_tokens_revoked"] = json!(changed.session_tokens);
    extra["token_families_revoked"] = json!(changed.token_families);
    extra
}
