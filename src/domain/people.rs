//! Admin → Users: every account, and the one fact about it that an administrator may confirm
//! by hand, that its email address is the person's (OpenID Connect's `email_verified`, released
//! by UserInfo and the ID token). With mail, people confirm it themselves by a mailed link
//! (`domain::email_verification`). Only server administrators (and the operator at the command
//! line) may set it here; each change records `user.email_verified`.

use serde_json::json;

use crate::domain::audit::AuditEvent;
use crate::domain::context::{Actor, Context};
use crate::domain::policy::ServerAction;
use crate::domain::user::{Email, User};
use crate::error::{AppError, Result};
use crate::runtime::invalidation::Stale;
use crate::storage;

/// Which person an operation concerns.
#[derive(Debug, Clone, Copy)]
pub enum Person<'a> {
    /// By stored id (the pages).
    Id(&'a str),
    /// By email address, as typed (the command line).
    Email(&'a str),
}

/// Every account, oldest first, for a server administrator.
pub async fn list(ctx: &Context, by: Actor<'_>) -> Result<Vec<User>> {
    ctx.policy()
        .authorize_server(by, ServerAction::ManagePeople)?;
    storage::users::list_users(ctx.db()).await
}

/// Marks a person's email address verified (or not). Unknown people are `NotFound`; nothing is
/// recorded when nothing changed.
pub async fn set_email_verified(
    ctx: &Context,
    by: Actor<'_>,
    who: Person<'_>,
    verified: bool,
) -> Result<User> {
    ctx.policy()
        .authorize_server(by, ServerAction::ManagePeople)?;
    let found = match who {
        Person::Id(id) => storage::users::find_user(ctx.db(), id).await?,
        Person::Email(raw) => {
            let email = Email::parse(raw)?;
            storage::users::find_user_by_email(ctx.db(), &email).await?
        }
    };
    let mut user = found.ok_or(AppError::NotFound("Person"))?;
    if user.email_verified == verified {
        return Ok(user);
    }
    let now = ctx.now();
    storage::users::update_email_verified(ctx.db(), &user.id, verified, now).await?;
    // ID tokens read people through this cache.
    ctx.caches().invalidate(Stale::USERS);
    ctx.record(
        by.stamp(AuditEvent::here("user.email_verified"))
            .about(Some(&user.id))
            .target(format!("user:{}", user.id))
            .detail(json!({"email_verified": verified})),
    );
    user.email_verified = verified;
    user.updated_at = now;
    Ok(user)
}
