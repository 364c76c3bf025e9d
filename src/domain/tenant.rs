//! Tenants: every account has a personal one; credentials belong to exactly one and act only
//! inside it. `active` in API paths names the caller's current tenant.

use crate::domain::user::User;
use crate::error::{AppError, Result};
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

/// Resolves a path tenant for an API caller: `active` is the caller's bound tenant (credentials
/// act only inside theirs) or the person's active one; an explicit id must be a tenant the
/// person belongs to and, for a bound caller, its own.
pub async fn resolve_for(
    db: &Db,
    principal: &crate::domain::principal::Principal,
    raw: &str,
) -> Result<(User, Tenant)> {
    let user = storage::users::find_user(db, principal.user_id()?)
        .await?
        .ok_or(AppError::NotFound("User"))?;
    let tenant = match (&principal.tenant_id, raw) {
        (Some(bound), "active") => storage::tenants::find_tenant(db, bound)
            .await?
            .ok_or(AppError::NotFound("Tenant"))?,
        (None, _) => resolve(db, &user, raw).await?,
        (Some(bound), id) if bound == id => resolve(db, &user, id).await?,
        (Some(_), _) => return Err(AppError::NotFound("Tenant")),
    };
    Ok((user, tenant))
}
