//! Tenants: every account has a personal one; credentials belong to exactly one and act only
//! inside it. `active` in API paths names the caller's current tenant.

use crate::domain::user::User;
use crate::error::{AppError, Result};
use crate::runtime::cache::Caches;
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
pub async fn personal(db: &Db, user: &User) -> Result<Tenant> {
    if let Some(t) = storage::tenants::find_personal(db, &user.id).await? {
        return Ok(t);
    }
    let tenant = Tenant {
        id: uuid::Uuid::now_v7().to_string(),
        name: format!("{}'s workspace", user.name),
        personal_user_id: Some(user.id.clone()),
    };
    match storage::tenants::insert_tenant_with_admin(db, &tenant, &user.id).await {
        Ok(()) => Ok(tenant),
        // Created concurrently: use that one.
        Err(AppError::Conflict(_)) => storage::tenants::find_personal(db, &user.id)
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("personal tenant vanished"))),
        Err(e) => Err(e),
    }
}

/// The tenant the person is working in: their chosen one if still a member, else personal.
pub async fn active(db: &Db, user: &User) -> Result<Tenant> {
    if let Some(id) = storage::users::find_active_tenant(db, &user.id).await?
        && let Some(t) = storage::tenants::find_tenant(db, &id).await?
        && storage::tenants::member_role(db, &id, &user.id)
            .await?
            .is_some()
    {
        return Ok(t);
    }
    personal(db, user).await
}

/// Resolves a tenant named in a path (`active` or an id) for a user, who must be a member.
pub async fn resolve(db: &Db, user: &User, raw: &str) -> Result<Tenant> {
    if raw == "active" {
        return active(db, user).await;
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
pub async fn memberships(db: &Db, user: &User) -> Result<Vec<(Tenant, String)>> {
    personal(db, user).await?;
    storage::tenants::memberships(db, &user.id).await
}

/// Makes `tenant_id` the person's active tenant; they must be a member.
pub async fn switch(db: &Db, caches: &Caches, user: &User, tenant_id: &str) -> Result<Tenant> {
    let tenant = resolve(db, user, tenant_id).await?;
    storage::users::set_active_tenant(db, &user.id, &tenant.id).await?;
    caches.users().invalidate();
    Ok(tenant)
}

/// Creates a tenant (server administrators only); its creator is its first administrator.
pub async fn create(db: &Db, actor: &User, name: &str) -> Result<Tenant> {
    if !actor.is_admin {
        return Err(AppError::Forbidden(
            "Only administrators create tenants.".into(),
        ));
    }
    let name = crate::domain::user::DisplayName::parse(name)?;
    let tenant = Tenant {
        id: uuid::Uuid::now_v7().to_string(),
        name: name.as_str().to_owned(),
        personal_user_id: None,
    };
    storage::tenants::insert_tenant_with_admin(db, &tenant, &actor.id).await?;
    Ok(tenant)
}

/// A tenant's members with their roles.
pub async fn members(db: &Db, tenant: &Tenant) -> Result<Vec<(User, String)>> {
    let mut out = Vec::new();
    for (user_id, role) in storage::tenants::members(db, &tenant.id).await? {
        if let Some(u) = storage::users::find_user(db, &user_id).await? {
            out.push((u, role));
        }
    }
    Ok(out)
}

/// Removes a member; a tenant always keeps at least one administrator.
pub async fn remove_member(db: &Db, tenant: &Tenant, user_id: &str) -> Result<()> {
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
