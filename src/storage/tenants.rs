//! Tenants and memberships.

use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};

use super::entity::{tenant_members, tenants};
use super::{Db, map_err, now};
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
        .one(db)
        .await
        .map_err(map_err)?
        .map(to_domain))
}

/// A person's personal tenant.
pub async fn find_personal(db: &Db, user_id: &str) -> Result<Option<Tenant>> {
    Ok(tenants::Entity::find()
        .filter(tenants::Column::PersonalUserId.eq(user_id))
        .one(db)
        .await
        .map_err(map_err)?
        .map(to_domain))
}

/// Creates a tenant whose first member is `admin_id`, as administrator.
pub async fn insert_tenant_with_admin(db: &Db, tenant: &Tenant, admin_id: &str) -> Result<()> {
    let at = now();
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
            .one(db)
            .await
            .map_err(map_err)?
            .map(|m| m.role),
    )
}
