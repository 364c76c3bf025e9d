//! Tenants: every account has a personal one; credentials belong to exactly one and act only
//! inside it. `active` in API paths names the caller's current tenant. Switching and creating
//! record their own audit events; who may create tenants or see all of them is the policy's
//! decision (`ServerAction`).

use serde_json::json;

use crate::domain::audit::AuditEvent;
use crate::domain::context::{Actor, Context};
use crate::domain::policy::{Action, Role, ServerAction};
use crate::domain::user::User;
use crate::error::{AppError, Result};
use crate::runtime::invalidation::Stale;
use crate::storage::{self, Db};

/// A tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// UUID.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Set for a person's personal tenant.
    pub personal_user_id: Option<String>,
}

/// Roles a member can hold in a tenant.
pub const ROLES: [&str; 3] = ["admin", "editor", "viewer"];

/// The person's personal tenant, created on first need (sign-up creates it too).
pub(crate) async fn personal(db: &Db, user: &User, now: i64) -> Result<Tenant> {
    if let Some(t) = storage::tenants::find_personal(db, &user.id).await? {
        return Ok(t);
    }
    let tenant = Tenant {
        id: uuid::Uuid::now_v7().to_string(),
        name: format!("{}'s workspace", user.name),
        personal_user_id: Some(user.id.clone()),
    };
    match storage::tenants::insert_tenant_with_admin(db, &tenant, &user.id, now).await {
        Ok(()) => Ok(tenant),
        // Created concurrently: use that one.
        Err(AppError::Conflict(_)) => storage::tenants::find_personal(db, &user.id)
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("personal tenant vanished"))),
        Err(e) => Err(e),
    }
}

/// The tenant the person is working in: their chosen one if still a member, else personal.
pub async fn active(ctx: &Context, user: &User) -> Result<Tenant> {
    active_in(ctx.db(), user, ctx.now()).await
}

/// `active` on a bare storage handle (the policy's own lookups).
pub(crate) async fn active_in(db: &Db, user: &User, now: i64) -> Result<Tenant> {
    if let Some(id) = storage::users::find_active_tenant(db, &user.id).await?
        && let Some(t) = storage::tenants::find_tenant(db, &id).await?
        && storage::tenants::member_role(db, &id, &user.id)
            .await?
            .is_some()
    {
        return Ok(t);
    }
    personal(db, user, now).await
}

/// Resolves a tenant named in a path (`active` or an id) for a user, who must be a member.
async fn resolve(db: &Db, user: &User, raw: &str, now: i64) -> Result<Tenant> {
    if raw == "active" {
        return active_in(db, user, now).await;
    }
    let tenant = storage::tenants::find_tenant(db, raw).await?;
    match tenant {
        Some(t)
            if storage::tenants::member_role(db, &t.id, &user.id)
                .await?
                .is_some() =>
        {
            Ok(t)
        }
        // A tenant the caller cannot see does not exist for them.
        _ => Err(AppError::NotFound("Tenant")),
    }
}

/// The tenants a person belongs to, with their role in each.
pub async fn memberships(ctx: &Context, user: &User) -> Result<Vec<(Tenant, String)>> {
    personal(ctx.db(), user, ctx.now()).await?;
    storage::tenants::memberships(ctx.db(), &user.id).await
}

/// The tenants a person may open under Admin → Tenants: those they belong to with their role,
/// and, for someone the policy lets see every tenant, all the others as `server administrator`.
pub async fn visible(ctx: &Context, user: &User) -> Result<Vec<(Tenant, String)>> {
    let mut tenants = memberships(ctx, user).await?;
    if ctx
        .policy()
        .permits(Actor::User(user), ServerAction::SeeEveryTenant)
    {
        for t in storage::tenants::all_tenants(ctx.db()).await? {
            if !tenants.iter().any(|(m, _)| m.id == t.id) {
                tenants.push((t, "server administrator".into()));
            }
        }
    }
    Ok(tenants)
}

/// What the header's tenant switcher shows.
#[derive(Debug, Clone)]
pub struct Switcher {
    /// The person's tenants, each with whether it is the active one.
    pub tenants: Vec<(Tenant, bool)>,
    /// Whether their role in the active tenant lets them administer it (members, system
    /// credentials).
    pub administers_active: bool,
}

/// The person's tenants for the switcher, and whether they administer the active one.
pub async fn switcher(ctx: &Context, user: &User) -> Result<Switcher> {
    let active = active(ctx, user).await?;
    let mut out = Switcher {
        tenants: Vec::new(),
        administers_active: false,
    };
    for (t, role) in memberships(ctx, user).await? {
        let is_active = t.id == active.id;
        out.administers_active |=
            is_active && Role::parse(&role).is_some_and(|r| r.allows(Action::ManageMembers));
        out.tenants.push((t, is_active));
    }
    Ok(out)
}

/// Makes `tenant_id` the person's active tenant; they must be a member.
pub async fn switch(ctx: &Context, user: &User, tenant_id: &str) -> Result<Tenant> {
    let tenant = resolve(ctx.db(), user, tenant_id, ctx.now()).await?;
    storage::users::set_active_tenant(ctx.db(), &user.id, &tenant.id).await?;
    ctx.caches().invalidate(Stale::USERS);
    ctx.record(
        AuditEvent::here("tenant.switched")
            .by_user(&user.id)
            .tenant(Some(&tenant.id)),
    );
    Ok(tenant)
}

/// Creates a tenant (server administrators only); its creator is its first administrator.
pub async fn create(ctx: &Context, actor: &User, name: &str) -> Result<Tenant> {
    ctx.policy()
        .authorize_server(Actor::User(actor), ServerAction::CreateTenant)?;
    let name = crate::domain::user::DisplayName::parse(name)?;
    let tenant = Tenant {
        id: uuid::Uuid::now_v7().to_string(),
        name: name.as_str().to_owned(),
        personal_user_id: None,
    };
    storage::tenants::insert_tenant_with_admin(ctx.db(), &tenant, &actor.id, ctx.now()).await?;
    ctx.record(
        AuditEvent::here("tenant.created")
            .by_user(&actor.id)
            .tenant(Some(&tenant.id))
            .detail(json!({"name": tenant.name})),
    );
    Ok(tenant)
}

/// A tenant's members with their roles.
pub(crate) async fn members(db: &Db, tenant: &Tenant) -> Result<Vec<(User, String)>> {
    let mut out = Vec::new();
    for (user_id, role) in storage::tenants::members(db, &tenant.id).await? {
        if let Some(u) = storage::users::find_user(db, &user_id).await? {
            out.push((u, role));
        }
    }
    Ok(out)
}

/// Removes a member; a tenant always keeps at least one administrator.
pub(crate) async fn remove_member(db: &Db, tenant: &Tenant, user_id: &str) -> Result<()> {
    ensure_another_admin(db, tenant, user_id).await?;
    if !storage::tenants::delete_member(db, &tenant.id, user_id).await? {
        return Err(AppError::NotFound("Member"));
    }
    Ok(())
}

/// Fails with `Conflict` when `leaving` is the tenant's last administrator.
pub(crate) async fn ensure_another_admin(db: &Db, tenant: &Tenant, leaving: &str) -> Result<()> {
    let members = storage::tenants::members(db, &tenant.id).await?;
    let is_admin = members.iter().any(|(u, r)| u == leaving && r == "admin");
    let others = members
        .iter()
        .filter(|(u, r)| u != leaving && r == "admin")
        .count();
    if is_admin && others == 0 {
        return Err(AppError::Conflict(
            "A tenant needs at least one administrator.".into(),
        ));
    }
    Ok(())
}
