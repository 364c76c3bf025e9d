//! Admin → Users: finding accounts and the actions server administrators take on them —
//! disable and enable, sign out everywhere, grant and revoke administrator rights. Each action
//! is decided by the policy (`ServerAction::ManageAccounts`: server administrators and the
//! operator at the command line, never on one's own account) and records its audit event.
//!
//! Disabling suspends rather than revokes: the account's `disabled_at` is checked wherever what
//! it holds is used (sign-in, the policy's `effective` for every bearer, refresh grants,
//! introspection), so enabling it again restores its credentials and apps' tokens. Its browser
//! sessions and session tokens end at once, though: a session is a sign-in, and signing in
//! again is what enabling allows.

use serde_json::json;

use crate::domain::accounts::SignInRefused;
use crate::domain::audit::AuditEvent;
use crate::domain::context::{Actor, Context};
use crate::domain::people::Person;
use crate::domain::policy::ServerAction;
use crate::domain::user::{Email, User};
use crate::error::{AppError, Result};
use crate::runtime::invalidation::Stale;
use crate::storage;

/// Accounts per page of the Users page.
pub const PAGE_SIZE: u64 = 50;

/// Longest search text worth running (longer cannot match a name or an address).
const MAX_QUERY: usize = 254;

/// One account as the Users page lists it.
#[derive(Debug)]
pub struct Listed {
    /// The account.
    pub user: User,
    /// When they last signed in, if the audit log still remembers.
    pub last_sign_in: Option<i64>,
}

/// One page of a search.
#[derive(Debug)]
pub struct Found {
    /// The accounts on this page.
    pub people: Vec<Listed>,
    /// The page shown (1-based).
    pub page: u64,
    /// Whether a later page exists.
    pub has_next: bool,
    /// How many accounts match in all.
    pub total: u64,
    /// Whether the server requires a second factor of everyone.
    pub second_factor_required: bool,
}

/// Accounts whose name or email contains `query` (case-insensitive; blank: everyone), oldest
/// first, page `page` (1-based; 0 reads as 1) of `PAGE_SIZE`.
pub async fn search(ctx: &Context, by: Actor<'_>, query: &str, page: u64) -> Result<Found> {
    ctx.policy()
        .authorize_server(by, ServerAction::ManagePeople)?;
    let query = query.trim();
    if query.chars().count() > MAX_QUERY {
        return Err(AppError::validation(
            "q",
            "Search for at most 254 characters.",
        ));
    }
    let page = page.max(1);
    let offset = (page - 1).saturating_mul(PAGE_SIZE);
    let found = storage::user_admin::search(
        ctx.db(),
        (!query.is_empty()).then_some(query),
        offset,
        PAGE_SIZE,
    )
    .await?;
    let ids: Vec<String> = found.users.iter().map(|u| u.id.clone()).collect();
    let last = storage::user_admin::last_sign_ins(ctx.db(), &ids).await?;
    let people = found
        .users
        .into_iter()
        .map(|user| Listed {
            last_sign_in: last.get(&user.id).copied(),
            user,
        })
        .collect();
    Ok(Found {
        people,
        page,
        has_next: offset.saturating_add(PAGE_SIZE) < found.total,
        total: found.total,
        second_factor_required: crate::domain::factors::second_factor_required(ctx).await?,
    })
}

/// Every account, oldest first (`portcullis user list`).
pub async fn list_all(ctx: &Context, by: Actor<'_>) -> Result<Vec<User>> {
    crate::domain::people::list(ctx, by).await
}

/// The account `who` names, or `NotFound`.
pub async fn find_person(ctx: &Context, who: Person<'_>) -> Result<User> {
    let found = match who {
        Person::Id(id) => storage::users::find_user(ctx.db(), id).await?,
        Person::Email(raw) => {
            let email = Email::parse(raw)?;
            storage::users::find_user_by_email(ctx.db(), &email).await?
        }
    };
    found.ok_or(AppError::NotFound("Person"))
}

/// The account `who` names, once the policy allows `by` to act on it (the delete confirmation
/// page).
pub async fn find_for_action(ctx: &Context, by: Actor<'_>, who: Person<'_>) -> Result<User> {
    ctx.policy()
        .authorize_server(by, ServerAction::ManageAccounts)?;
    let user = find_person(ctx, who).await?;
    ctx.policy()
        .authorize_on_account(by, ServerAction::ManageAccounts, &user)?;
    Ok(user)
}

/// The signed-in account behind a browser session: `None` once it is deleted or disabled (the
/// session then ends).
pub async fn signed_in(ctx: &Context, id: &str) -> Result<Option<User>> {
    // Every page of a signed-in person asks: from the cache, which every change to an account
    // invalidates (as the policy's own account checks do).
    Ok(crate::domain::accounts::find_cached(ctx, id)
        .await?
        .filter(User::is_active))
}

/// What a disabled account is told when it tries to sign in.
pub const DISABLED: &str = "This account has been disabled. Ask an administrator to enable it.";

/// Refuses a sign-in (by `method`) of a disabled account, recording `signin.failure`.
pub(crate) fn refuse_disabled(ctx: &Context, user: &User, method: &str) -> SignInRefused {
    ctx.record(
        AuditEvent::here("signin.failure")
            .about(Some(&user.id))
            .failed()
            .detail(json!({"method": method, "reason": "account_disabled"})),
    );
    SignInRefused::Incorrect(DISABLED.into())
}

/// Disables an account: it can no longer sign in, its browser sessions and session tokens end
/// at once, and everything else it holds is refused while it stays disabled. The last active
/// administrator is never disabled. Records `user.disabled`.
pub async fn disable(ctx: &Context, by: Actor<'_>, who: Person<'_>) -> Result<User> {
    let mut user = find_person(ctx, who).await?;
    ctx.policy()
        .authorize_on_account(by, ServerAction::ManageAccounts, &user)?;
    if !user.is_active() {
        return Ok(user);
    }
    let now = ctx.now();
    storage::user_admin::set_disabled(ctx.db(), &user.id, Some(now), now).await?;
    // Every server forgets the account as it was, so the next use of anything it holds sees the
    // flag (the policy reads accounts through this cache).
    ctx.caches().invalidate(Stale::USERS);
    let ended = end_sessions(ctx, by, &user.id, "account_disabled").await?;
    ctx.record(
        by.stamp(AuditEvent::here("user.disabled"))
            .about(Some(&user.id))
            .target(format!("user:{}", user.id))
            .detail(json!({"sessions_ended": ended})),
    );
    user.disabled_at = Some(now);
    Ok(user)
}

/// Enables a disabled account: it signs in again, and what it held works again. Records
/// `user.enabled`.
pub async fn enable(ctx: &Context, by: Actor<'_>, who: Person<'_>) -> Result<User> {
    let mut user = find_person(ctx, who).await?;
    ctx.policy()
        .authorize_on_account(by, ServerAction::ManageAccounts, &user)?;
    if user.is_active() {
        return Ok(user);
    }
    storage::user_admin::set_disabled(ctx.db(), &user.id, None, ctx.now()).await?;
    ctx.caches().invalidate(Stale::USERS);
    ctx.record(
        by.stamp(AuditEvent::here("user.enabled"))
            .about(Some(&user.id))
            .target(format!("user:{}", user.id)),
    );
    user.disabled_at = None;
    Ok(user)
}

/// Signs a person out everywhere: every browser session and session token of theirs ends.
/// Records `user.signed_out`.
pub async fn sign_out(ctx: &Context, by: Actor<'_>, who: Person<'_>) -> Result<u64> {
    let user = find_person(ctx, who).await?;
    ctx.policy()
        .authorize_on_account(by, ServerAction::ManageAccounts, &user)?;
    let ended = end_sessions(ctx, by, &user.id, "signed_out_by_administrator").await?;
    ctx.record(
        by.stamp(AuditEvent::here("user.signed_out"))
            .about(Some(&user.id))
            .target(format!("user:{}", user.id))
            .detail(json!({"sessions_ended": ended})),
    );
    Ok(ended)
}

/// Ends every browser session and session token of `user_id`; how many sessions ended.
async fn end_sessions(ctx: &Context, by: Actor<'_>, user_id: &str, reason: &str) -> Result<u64> {
    let (sessions, tokens) =
        storage::session_tokens::end_every_session(ctx.db(), user_id, ctx.now()).await?;
    ctx.caches().invalidate(Stale::REVOKED);
    let actor = match by {
        Actor::User(u) => ("user", u.id.as_str()),
        Actor::CommandLine => ("cli", "cli"),
    };
    crate::domain::session_tokens::record_revoked(ctx, &tokens, reason, actor);
    Ok(sessions)
}

/// Grants or revokes server administrator rights. The server always keeps one active
/// administrator. Records `user.admin_granted` or `user.admin_revoked`.
pub async fn set_admin(
    ctx: &Context,
    by: Actor<'_>,
    who: Person<'_>,
    is_admin: bool,
) -> Result<User> {
    let mut user = find_person(ctx, who).await?;
    ctx.policy()
        .authorize_on_account(by, ServerAction::ManageAccounts, &user)?;
    if user.is_admin == is_admin {
        return Ok(user);
    }
    let now = ctx.now();
    storage::user_admin::set_admin(ctx.db(), &user.id, is_admin, now).await?;
    ctx.caches().invalidate(Stale::USERS);
    let event = if is_admin {
        "user.admin_granted"
    } else {
        "user.admin_revoked"
    };
    ctx.record(
        by.stamp(AuditEvent::here(event))
            .about(Some(&user.id))
            .target(format!("user:{}", user.id)),
    );
    user.is_admin = is_admin;
    user.updated_at = now;
    Ok(user)
}
