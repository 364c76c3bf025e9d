//! Removing an account for good: by a server administrator (Admin → Users) or by the person
//! themselves (Account → Delete account). Either way the email address must be typed to
//! confirm, and the account goes with everything that is only theirs (`storage::user_admin::
//! delete_user`); the audit log keeps its record. Refused, with a message, while the person is
//! the last administrator of a tenant (naming it: someone else must administer it first, as
//! GitHub asks of an organization's last owner) or the server's last active administrator.

use std::net::IpAddr;

use serde_json::json;

use crate::domain::accounts::{self, SignInRefused};
use crate::domain::audit::AuditEvent;
use crate::domain::context::{Actor, Context};
use crate::domain::people::Person;
use crate::domain::policy::ServerAction;
use crate::domain::user::User;
use crate::domain::user_admin::find_person;
use crate::error::{AppError, Result};
use crate::runtime::invalidation::Stale;
use crate::runtime::throttle::SignInThrottle;
use crate::secret::Password;
use crate::storage;

/// The form field holding the typed email address.
pub const CONFIRM_FIELD: &str = "confirm_email";

/// Deletes someone else's account (a server administrator, or the operator). `typed` must be
/// the account's email address. Records `user.deleted`.
pub async fn delete(ctx: &Context, by: Actor<'_>, who: Person<'_>, typed: &str) -> Result<()> {
    let user = find_person(ctx, who).await?;
    ctx.policy()
        .authorize_on_account(by, ServerAction::ManageAccounts, &user)?;
    confirm(&user, typed)?;
    remove(ctx, &user, by.stamp(AuditEvent::here("user.deleted"))).await
}

/// A person deletes their own account, with their current password (checked like a sign-in,
/// see `accounts::confirm_password`) and their email address typed. Records `account.deleted`.
/// The caller ends the browser session it came from.
pub async fn delete_own(
    ctx: &Context,
    throttle: &SignInThrottle,
    ip: Option<IpAddr>,
    user: &User,
    password: Password,
    typed: &str,
) -> Result<Result<(), SignInRefused>> {
    confirm(user, typed)?;
    match accounts::confirm_password(ctx, throttle, ip, user, password).await? {
        Ok(()) => {}
        Err(refused) => {
            ctx.record(
                AuditEvent::here("account.delete_failed")
                    .by_user(&user.id)
                    .failed()
                    .detail(json!({"reason": "incorrect_password"})),
            );
            return Ok(Err(refused));
        }
    }
    remove(
        ctx,
        user,
        AuditEvent::here("account.deleted").by_user(&user.id),
    )
    .await?;
    Ok(Ok(()))
}

/// The typed address must be the account's (compared as addresses are: trimmed, any case).
fn confirm(user: &User, typed: &str) -> Result<()> {
    if typed.trim().to_lowercase() != user.email {
        return Err(AppError::validation(
            CONFIRM_FIELD,
            "Type the account's email address exactly to confirm.",
        ));
    }
    Ok(())
}

async fn remove(ctx: &Context, user: &User, event: AuditEvent) -> Result<()> {
    ensure_no_orphaned_tenant(ctx, user).await?;
    let personal = storage::tenants::find_personal(ctx.db(), &user.id).await?;
    let removed =
        storage::user_admin::delete_user(ctx.db(), &user.id, personal.as_ref().map(|t| t.id.as_str()))
            .await
            .map_err(|e| match e {
                AppError::Conflict(_) => AppError::Conflict(
                    "This is the server's last active administrator: make someone else an administrator first.".into(),
                ),
                other => other,
            })?;
    // Everything cached about the person, their memberships, credentials, apps and tokens.
    ctx.caches().invalidate(Stale::ALL);
    ctx.record(
        event
            .about(Some(&user.id))
            .target(format!("user:{}", user.id))
            .detail(json!({
                "email": user.email,
                "sessions_ended": removed.sessions,
                "personal_tenant": removed.personal_tenant,
            })),
    );
    Ok(())
}

/// Refuses while the person is the only administrator of a tenant other than their personal
/// one (which goes with them), naming the tenant.
async fn ensure_no_orphaned_tenant(ctx: &Context, user: &User) -> Result<()> {
    for (tenant, role) in storage::tenants::memberships(ctx.db(), &user.id).await? {
        if role != "admin" || tenant.personal_user_id.as_deref() == Some(user.id.as_str()) {
            continue;
        }
        let members = storage::tenants::members(ctx.db(), &tenant.id).await?;
        let other_admins = members
            .iter()
            .filter(|(id, r)| *id != user.id && r == "admin")
            .count();
        if other_admins == 0 {
            return Err(AppError::Conflict(format!(
                "{} is the last administrator of the tenant \u{201c}{}\u{201d}: make someone else an administrator there first.",
                user.email, tenant.name
            )));
        }
    }
    Ok(())
}
