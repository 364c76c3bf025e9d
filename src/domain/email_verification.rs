//! Confirming that an email address is the person's by a link mailed to it, and changing the
//! address. A link (`domain::email_tokens`, valid 24 hours) opens a page whose button confirms:
//! fetching the link changes nothing, so a mail scanner that follows it spends nothing.
//! Confirming sets `email_verified` (`user.email_verified`, `"via": "link"`) if the account still
//! has the address the link was mailed to. Changing the address takes the current password,
//! checked like a password change (throttled, failures counted as failed sign-ins); the new
//! address is unverified until its own link is used, and the old one is told.

use std::net::IpAddr;

use serde_json::json;

use crate::domain::accounts::{self, SignInRefused};
use crate::domain::audit::AuditEvent;
use crate::domain::context::Context;
use crate::domain::email_tokens::{self, Purpose};
use crate::domain::notices::{self, Notice, Sent};
use crate::domain::user::{Email, User};
use crate::error::{AppError, Result};
use crate::runtime::invalidation::Stale;
use crate::runtime::mail_throttle::MailThrottle;
use crate::runtime::throttle::SignInThrottle;
use crate::secret::Password;
use crate::storage;

/// Mails the account a link confirming its current address; `Sent::No` without mail (no link
/// is issued then).
pub async fn mail_link(ctx: &Context, user: &User) -> Result<Sent> {
    let Some(outbox) = ctx.outbox() else {
        return Ok(Sent::No);
    };
    let token = email_tokens::issue(ctx, &user.id, &user.email, Purpose::VerifyEmail).await?;
    let link = outbox.link(Purpose::VerifyEmail, &token);
    Ok(notices::send(
        ctx,
        &user.email,
        &Notice::VerifyEmail { link },
    ))
}

/// Why a resend did not mail anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResendRefused {
    /// The address is verified already.
    AlreadyVerified,
    /// The server has no mail.
    NoMail,
    /// Asked too often: try again in `wait_secs`.
    Throttled {
        /// Seconds to wait.
        wait_secs: i64,
    },
}

/// Mails the signed-in person a new confirmation link (replacing the older), at most
/// `mail_throttle`'s budget per address and source.
pub async fn resend(
    ctx: &Context,
    throttle: &MailThrottle,
    ip: Option<IpAddr>,
    user: &User,
) -> Result<Result<Sent, ResendRefused>> {
    if user.email_verified {
        return Ok(Err(ResendRefused::AlreadyVerified));
    }
    if ctx.outbox().is_none() {
        return Ok(Err(ResendRefused::NoMail));
    }
    if let Err(wait_secs) = throttle.take(ip, "verify", &user.email, ctx.now()).await {
        return Ok(Err(ResendRefused::Throttled { wait_secs }));
    }
    Ok(Ok(mail_link(ctx, user).await?))
}

/// Whether `token` opens an unused, unexpired confirmation link (the page then offers the
/// button).
pub async fn link_is_valid(ctx: &Context, token: &str) -> Result<bool> {
    Ok(email_tokens::find(ctx, Purpose::VerifyEmail, token)
        .await?
        .is_some())
}

/// Uses up a confirmation link: the address it was mailed to is verified, if the account still
/// has it. `false` for an unknown, used, expired or outdated link.
pub async fn confirm(ctx: &Context, token: &str) -> Result<bool> {
    let Some(link) = email_tokens::take(ctx, Purpose::VerifyEmail, token).await? else {
        return Ok(false);
    };
    let now = ctx.now();
    if !storage::users::verify_email_if_current(ctx.db(), &link.user_id, &link.email, now).await? {
        return Ok(false);
    }
    ctx.caches().invalidate(Stale::USERS);
    ctx.record(
        AuditEvent::here("user.email_verified")
            .by_user(&link.user_id)
            .target(format!("user:{}", link.user_id))
            .detail(json!({"email_verified": true, "via": "link"})),
    );
    Ok(true)
}

/// What a change-address form supplies.
#[derive(Debug)]
pub struct EmailChange {
    /// The new address, as typed.
    pub email: String,
    /// The password now in use.
    pub current: Password,
}

/// Gives the signed-in person a new address, with their current password: unverified, its
/// confirmation link mailed to it (with mail), the old address told. An address another
/// account has is `Conflict`, as at sign-up. Recorded as `user.email_changed`; a refusal for
/// the password as `user.email_change_failed`.
pub async fn change(
    ctx: &Context,
    throttle: &SignInThrottle,
    ip: Option<IpAddr>,
    user: &User,
    change: EmailChange,
) -> Result<Result<User, SignInRefused>> {
    let failed = |reason: &str| {
        AuditEvent::here("user.email_change_failed")
            .by_user(&user.id)
            .failed()
            .detail(json!({"reason": reason}))
    };
    if let Err(wait_secs) = throttle.check(ip, &user.email, ctx.now()).await {
        ctx.record(failed("throttled"));
        return Ok(Err(SignInRefused::Throttled { wait_secs }));
    }
    let email = Email::parse(&change.email)?;
    if email.as_str() == user.email {
        return Err(AppError::validation(
            "email",
            "That is already your address.",
        ));
    }
    let failed: &dyn Fn(&str) -> AuditEvent = &failed;
    if let Err(refused) =
        accounts::verify_current(ctx, throttle, ip, user, change.current, failed).await?
    {
        return Ok(Err(refused));
    }
    let now = ctx.now();
    storage::users::update_email(ctx.db(), &user.id, &email, now).await?;
    ctx.caches().invalidate(Stale::USERS);
    ctx.record(
        AuditEvent::here("user.email_changed")
            .by_user(&user.id)
            .target(format!("user:{}", user.id))
            .detail(json!({"from": user.email, "to": email.as_str()})),
    );
    notices::send(ctx, &user.email, &Notice::EmailChanged);
    let changed = User {
        email: email.as_str().to_owned(),
        email_verified: false,
        updated_at: now,
        ..user.clone()
    };
    mail_link(ctx, &changed).await?;
    Ok(Ok(changed))
}
