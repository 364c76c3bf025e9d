//! Who belongs to a tenant, and with which role: invitations (addressed to an email, accepted only
//! by the account with that address), role changes and removals. Who may do each is the
//! policy's decision (`domain::policy`); every change of membership tells the policy at once,
//! so the credentials of a removed or demoted member shrink or stop on their next request. Operations record their own audit
//! events, and the invited address never goes into one (a security log is readable by its
//! subject).
//!
//! Inviting never looks up accounts: whether an address has an account, is already a member or
//! already invited, the inviter gets the same answer, so invitations cannot be used to find out
//! who has an account here.

use serde_json::json;

use crate::domain::audit::AuditEvent;
use crate::domain::context::Context;
use crate::domain::policy::{Access, Action, Role};
use crate::domain::principal::Principal;
use crate::domain::tenant::{self, Tenant};
use crate::domain::user::{Email, User};
use crate::error::{AppError, FieldErrors, Result};
use crate::runtime::invalidation::Stale;
use crate::storage;

/// How long an invitation can be accepted.
pub const INVITATION_LIFETIME_SECS: i64 = 14 * 86_400;

/// Invitations a tenant may hold at once (pending or expired and not yet purged): each is a row
/// an administrator's form stores.
pub const MAX_INVITATIONS: u64 = 1_000;

/// Parses a submitted role name.
fn parse_role(raw: &str) -> Result<Role> {
    Role::parse(raw).ok_or_else(|| AppError::validation("role", "Use admin, editor or viewer."))
}

/// An invitation to join a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    /// UUID.
    pub id: String,
    /// The tenant it invites to.
    pub tenant_id: String,
    /// The normalised address it is for (shown to the tenant's administrators only).
    pub email: String,
    /// The role accepting gives.
    pub role: Role,
    /// The administrator who (last) sent it.
    pub invited_by: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; it cannot be accepted from then on.
    pub expires_at: i64,
}

/// An invitation as its invitee sees it.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The invitation.
    pub invitation: Invitation,
    /// The tenant it invites to.
    pub tenant: Tenant,
}

/// Called after every change of who belongs to a tenant or with which role, so nothing serves
/// the old membership from a cache.
fn membership_changed(ctx: &Context) {
    ctx.policy().membership_changed();
    ctx.caches().invalidate(Stale::USERS);
}

/// The tenant's members with their roles (any member who may read may list them).
pub async fn members(
    ctx: &Context,
    caller: &Principal,
    tenant: &str,
) -> Result<(Tenant, Vec<(User, Role)>)> {
    let access = ctx.policy().authorize(caller, tenant, Action::Read).await?;
    let list = tenant::members(ctx.db(), &access.tenant)
        .await?
        .into_iter()
        .map(|(u, role)| Ok((u, parse_role(&role)?)))
        .collect::<Result<_>>()?;
    Ok((access.tenant, list))
}

/// The caller's right to manage the members of a tenant.
async fn manage(ctx: &Context, caller: &Principal, tenant: &str) -> Result<Access> {
    ctx.policy()
        .authorize(caller, tenant, Action::ManageMembers)
        .await
}

/// Invites `email` with `role` (administrators). The answer, the role, is the same whoever the
/// address belongs to; inviting an address already invited updates that invitation's role and
/// lifetime.
pub async fn invite(
    ctx: &Context,
    caller: &Principal,
    tenant: &str,
    email: &str,
    role: &str,
) -> Result<(Tenant, Role)> {
    let access = manage(ctx, caller, tenant).await?;
    let (actor, tenant) = (&access.user, &access.tenant);
    // Both fields are checked before either is refused, so the answer names each bad one.
    let mut errors = FieldErrors::default();
    let role = errors.take(parse_role(role))?;
    let email = errors.take(Email::parse(email))?;
    errors.finish()?;
    let (Some(role), Some(email)) = (role, email) else {
        return Err(AppError::internal(anyhow::anyhow!(
            "a checked field is missing"
        )));
    };
    if storage::invitations::count_for_tenant(ctx.db(), &tenant.id).await? >= MAX_INVITATIONS
        && !storage::invitations::exists(ctx.db(), &tenant.id, &email).await?
    {
        return Err(AppError::Conflict(
            "This tenant has too many pending invitations: revoke some first.".into(),
        ));
    }
    let now = ctx.now();
    let stored = storage::invitations::upsert_invitation(
        ctx.db(),
        &Invitation {
            id: uuid::Uuid::now_v7().to_string(),
            tenant_id: tenant.id.clone(),
            email: email.as_str().to_owned(),
            role,
            invited_by: actor.id.clone(),
            created_at: now,
            expires_at: now + INVITATION_LIFETIME_SECS,
        },
    )
    .await?;
    ctx.record(
        AuditEvent::here("tenant.member_invited")
            .by("user", &actor.id)
            .tenant(Some(&tenant.id))
            .target(format!("invitation:{}", stored.id))
            .detail(json!({"role": role.as_str()})),
    );
    Ok((access.tenant, role))
}

/// The tenant's invitations that can still be accepted (administrators).
pub async fn invitations(
    ctx: &Context,
    caller: &Principal,
    tenant: &str,
) -> Result<Vec<Invitation>> {
    let access = manage(ctx, caller, tenant).await?;
    storage::invitations::list_for_tenant(ctx.db(), &access.tenant.id, ctx.now()).await
}

/// Withdraws an invitation (administrators).
pub async fn revoke(ctx: &Context, caller: &Principal, tenant: &str, id: &str) -> Result<()> {
    let access = manage(ctx, caller, tenant).await?;
    let (actor, tenant) = (&access.user, &access.tenant);
    let gone = storage::invitations::delete_for_tenant(ctx.db(), &tenant.id, id)
        .await?
        .ok_or(AppError::NotFound("Invitation"))?;
    ctx.record(
        AuditEvent::here("tenant.invitation_revoked")
            .by("user", &actor.id)
            .tenant(Some(&tenant.id))
            .target(format!("invitation:{}", gone.id))
            .detail(json!({"role": gone.role.as_str()})),
    );
    Ok(())
}

/// The invitations addressed to the person's email that can still be accepted.
pub async fn pending_for(ctx: &Context, caller: &Principal) -> Result<Vec<Pending>> {
    let user = ctx.policy().person(caller).await?;
    let email = Email::parse(&user.email)?;
    let mut out = Vec::new();
    for invitation in storage::invitations::list_for_email(ctx.db(), &email, ctx.now()).await? {
        if let Some(tenant) = storage::tenants::find_tenant(ctx.db(), &invitation.tenant_id).await?
        {
            out.push(Pending { invitation, tenant });
        }
    }
    Ok(out)
}

/// Accepts an invitation addressed to the person's email: they become a member with its role
/// (someone already a member keeps their role). Anyone else's invitation, or one revoked,
/// declined or expired, is `NotFound`. Returns the tenant and the role now held there.
pub async fn accept(ctx: &Context, caller: &Principal, id: &str) -> Result<(Tenant, Role)> {
    let user = &ctx.policy().person(caller).await?;
    let email = Email::parse(&user.email)?;
    let now = ctx.now();
    let invitation = storage::invitations::find_live_for_email(ctx.db(), id, &email, now)
        .await?
        .ok_or(AppError::NotFound("Invitation"))?;
    let tenant = storage::tenants::find_tenant(ctx.db(), &invitation.tenant_id)
        .await?
        .ok_or(AppError::NotFound("Invitation"))?;
    if !storage::invitations::accept(ctx.db(), &invitation, &email, &user.id, now).await? {
        return Err(AppError::NotFound("Invitation"));
    }
    membership_changed(ctx);
    ctx.record(
        AuditEvent::here("tenant.invitation_accepted")
            .by_user(&user.id)
            .tenant(Some(&tenant.id))
            .target(format!("invitation:{}", invitation.id))
            .detail(json!({"role": invitation.role.as_str()})),
    );
    let held = storage::tenants::member_role(ctx.db(), &tenant.id, &user.id)
        .await?
        .map_or(Ok(invitation.role), |r| parse_role(&r))?;
    Ok((tenant, held))
}

/// Declines an invitation addressed to the person's email; it is gone.
pub async fn decline(ctx: &Context, caller: &Principal, id: &str) -> Result<()> {
    let user = &ctx.policy().person(caller).await?;
    let email = Email::parse(&user.email)?;
    let now = ctx.now();
    let invitation = storage::invitations::find_live_for_email(ctx.db(), id, &email, now)
        .await?
        .ok_or(AppError::NotFound("Invitation"))?;
    if !storage::invitations::delete_live_for_email(ctx.db(), id, &email, now).await? {
        return Err(AppError::NotFound("Invitation"));
    }
    ctx.record(
        AuditEvent::here("tenant.invitation_declined")
            .by_user(&user.id)
            .tenant(Some(&invitation.tenant_id))
            .target(format!("invitation:{}", invitation.id)),
    );
    Ok(())
}

/// Changes a member's role (administrators); the tenant keeps at least one administrator.
/// Returns the member and their new role.
pub async fn change_role(
    ctx: &Context,
    caller: &Principal,
    tenant: &str,
    user_id: &str,
    role: &str,
) -> Result<(User, Role)> {
    let access = manage(ctx, caller, tenant).await?;
    let (actor, tenant) = (&access.user, &access.tenant);
    let role = parse_role(role)?;
    let previous = storage::tenants::member_role(ctx.db(), &tenant.id, user_id)
        .await?
        .ok_or(AppError::NotFound("Member"))?;
    if role != Role::Admin {
        tenant::ensure_another_admin(ctx.db(), tenant, user_id).await?;
    }
    if !storage::tenants::update_member_role(ctx.db(), &tenant.id, user_id, role.as_str()).await? {
        return Err(AppError::NotFound("Member"));
    }
    membership_changed(ctx);
    ctx.record(
        AuditEvent::here("tenant.member_role_changed")
            .by("user", &actor.id)
            .about(Some(user_id))
            .tenant(Some(&tenant.id))
            .target(format!("user:{user_id}"))
            .detail(json!({"role": role.as_str(), "previous": previous})),
    );
    let member = storage::users::find_user(ctx.db(), user_id)
        .await?
        .ok_or(AppError::NotFound("Member"))?;
    Ok((member, role))
}

/// Removes a member (administrators); the tenant keeps at least one administrator.
pub async fn remove(ctx: &Context, caller: &Principal, tenant: &str, user_id: &str) -> Result<()> {
    let access = manage(ctx, caller, tenant).await?;
    let (actor, tenant) = (&access.user, &access.tenant);
    tenant::remove_member(ctx.db(), tenant, user_id).await?;
    membership_changed(ctx);
    ctx.record(
        AuditEvent::here("tenant.member_removed")
            .by("user", &actor.id)
            .about(Some(user_id))
            .tenant(Some(&tenant.id))
            .target(format!("user:{user_id}")),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_and_order_by_what_they_allow() {
        for role in Role::ALL {
            assert_eq!(parse_role(role.as_str()).unwrap(), role);
        }
        assert!(Role::Admin > Role::Editor && Role::Editor > Role::Viewer);
        for bad in ["", "owner", "Admin", "admin "] {
            assert!(parse_role(bad).is_err(), "{bad:?}");
        }
    }
}
