//! Tenants and memberships.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
    sea_query::Expr,
};

use super::UniqueExt;
use super::entity::{tenant_members, tenants};
use super::{Db, map_err};
use crate::domain::tenant::Tenant;
use crate::error::Result;

fn to_domain(m: tenants::Model) -> Tenant {
    Tenant {
        id: m.id,
        name: m.name,
        personal_user_id: m.personal_user_id,
    }
}

/// A tenant by id.
pub async fn find_tenant(db: &Db, id: &str) -> Result<Option<Tenant>> {
    Ok(tenants::Entity::find_by_id(id.to_owned())
        .unique(db)
        .await
        .map_err(map_err)?
        .map(to_domain))
}

/// A person's personal tenant.
pub async fn find_personal(db: &Db, user_id: &str) -> Result<Option<Tenant>> {
    Ok(tenants::Entity::find()
        .filter(tenants::Column::PersonalUserId.eq(user_id))
        .unique(db)
        .await
        .map_err(map_err)?
        .map(to_domain))
}

/// Creates a tenant whose first member is `admin_id`, as administrator.
pub async fn insert_tenant_with_admin(
    db: &Db,
    tenant: &Tenant,
    admin_id: &str,
    at: i64,
) -> Result<()> {
    let tx = db.begin().await.map_err(map_err)?;
    tenants::Entity::insert(tenants::ActiveModel {
        id: Set(tenant.id.clone()),
        name: Set(tenant.name.clone()),
        personal_user_id: Set(tenant.personal_user_id.clone()),
        created_at: Set(at),
    })
    .exec_without_returning(&tx)
    .await
    .map_err(map_err)?;
    tenant_members::Entity::insert(tenant_members::ActiveModel {
        tenant_id: Set(tenant.id.clone()),
        user_id: Set(admin_id.to_owned()),
        role: Set("admin".into()),
        created_at: Set(at),
    })
    .exec_without_returning(&tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)
}

/// The member's role in a tenant, if a member.
pub async fn member_role(db: &Db, tenant_id: &str, user_id: &str) -> Result<Option<String>> {
    Ok(
        tenant_members::Entity::find_by_id((tenant_id.to_owned(), user_id.to_owned()))
            .unique(db)
            .await
            .map_err(map_err)?
            .map(|m| m.role),
    )
}

/// The tenants a person belongs to, with their role, by name.
pub async fn memberships(db: &Db, user_id: &str) -> Result<Vec<(Tenant, String)>> {
    let members = tenant_members::Entity::find()
        .filter(tenant_members::Column::UserId.eq(user_id))
        .all(db)
        .await
        .map_err(map_err)?;
    let ids: Vec<String> = members.iter().map(|m| m.tenant_id.clone()).collect();
    let tenants = tenants::Entity::find()
        .filter(tenants::Column::Id.is_in(ids))
        .order_by_asc(tenants::Column::Name)
        .all(db)
        .await
        .map_err(map_err)?;
    Ok(tenants
        .into_iter()
        .filter_map(|t| {
            let role = members.iter().find(|m| m.tenant_id == t.id)?.role.clone();
            Some((to_domain(t), role))
        })
        .collect())
}

/// Every tenant, by name (server administrators).
pub async fn all_tenants(db: &Db) -> Result<Vec<Tenant>> {
    Ok(tenants::Entity::find()
        .order_by_asc(tenants::Column::Name)
        .all(db)
        .await
        .map_err(map_err)?
        .into_iter()
        .map(to_domain)
        .collect())
}

/// A tenant's members (user id, role).
pub async fn members(db: &Db, tenant_id: &str) -> Result<Vec<(String, String)>> {
    Ok(tenant_members::Entity::find()
        .filter(tenant_members::Column::TenantId.eq(tenant_id))
        .order_by_asc(tenant_members::Column::CreatedAt)
        .all(db)
        .await
        .map_err(map_err)?
        .into_iter()
        .map(|m| (m.user_id, m.role))
        .collect())
}

/// Changes a member's role; true when they were a member.
pub async fn update_member_role(
    db: &Db,
    tenant_id: &str,
    user_id: &str,
    role: &str,
) -> Result<bool> {
    let res = tenant_members::Entity::update_many()
        .col_expr(tenant_members::Column::Role, Expr::value(role))
        .filter(tenant_members::Column::TenantId.eq(tenant_id))
        .filter(tenant_members::Column::UserId.eq(user_id))
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(res.rows_affected > 0)
}

/// Removes a member; true when they were one.
pub async fn delete_member(db: &Db, tenant_id: &str, user_id: &str) -> Result<bool> {
    let res = tenant_members::Entity::delete_by_id((tenant_id.to_owned(), user_id.to_owned()))
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(res.rows_affected > 0)
}
