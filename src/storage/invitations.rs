//! Invitations to join a tenant, and accepting one (which makes the membership). Every query
//! that serves an invitee filters on the invitation's address as well as its id, so no account
//! reaches an invitation addressed to another.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    TransactionTrait, sea_query::OnConflict,
};

use super::UniqueExt;
use super::entity::{tenant_invitations as inv, tenant_members};
use super::{Db, map_err};
use crate::domain::membership::Invitation;
use crate::domain::policy::Role;
use crate::domain::user::Email;
use crate::error::{AppError, Result};

fn to_domain(m: inv::Model) -> Result<Invitation> {
    Ok(Invitation {
        role: Role::parse(&m.role)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown role {}", m.role)))?,
        id: m.id,
        tenant_id: m.tenant_id,
        email: m.email,
        invited_by: m.invited_by,
        created_at: m.created_at,
        expires_at: m.expires_at,
    })
}

fn all(models: Vec<inv::Model>) -> Result<Vec<Invitation>> {
    models.into_iter().map(to_domain).collect()
}

/// Live (not yet expired) invitations addressed to `email`, with this id.
fn live_for(id: &str, email: &Email, now: i64) -> Condition {
    Condition::all()
        .add(inv::Column::Id.eq(id))
        .add(inv::Column::Email.eq(email.as_str()))
        .add(inv::Column::ExpiresAt.gt(now))
}

/// Stores an invitation; one already pending for the same (tenant, email) keeps its id and takes
/// the new role, inviter and lifetime. Returns the stored invitation.
pub async fn upsert_invitation(db: &Db, i: &Invitation) -> Result<Invitation> {
    inv::Entity::insert(inv::ActiveModel {
        id: Set(i.id.clone()),
        tenant_id: Set(i.tenant_id.clone()),
        email: Set(i.email.clone()),
        role: Set(i.role.as_str().to_owned()),
        invited_by: Set(i.invited_by.clone()),
        created_at: Set(i.created_at),
        expires_at: Set(i.expires_at),
    })
    .on_conflict(
        OnConflict::columns([inv::Column::TenantId, inv::Column::Email])
            .update_columns([
                inv::Column::Role,
                inv::Column::InvitedBy,
                inv::Column::CreatedAt,
                inv::Column::ExpiresAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .map_err(map_err)?;
    inv::Entity::find()
        .filter(inv::Column::TenantId.eq(&i.tenant_id))
        .filter(inv::Column::Email.eq(&i.email))
        .unique(db)
        .await
        .map_err(map_err)?
        .map(to_domain)
        .transpose()?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("invitation vanished")))
}

/// Whether an invitation (live or expired) exists for this tenant and address.
pub async fn exists(db: &Db, tenant_id: &str, email: &Email) -> Result<bool> {
    Ok(inv::Entity::find()
        .filter(inv::Column::TenantId.eq(tenant_id))
        .filter(inv::Column::Email.eq(email.as_str()))
        .unique(db)
        .await
        .map_err(map_err)?
        .is_some())
}

/// How many invitations (live or expired) a tenant holds.
pub async fn count_for_tenant(db: &Db, tenant_id: &str) -> Result<u64> {
    inv::Entity::find()
        .filter(inv::Column::TenantId.eq(tenant_id))
        .count(db)
        .await
        .map_err(map_err)
}

/// A tenant's live invitations, oldest first.
pub async fn list_for_tenant(db: &Db, tenant_id: &str, now: i64) -> Result<Vec<Invitation>> {
    all(inv::Entity::find()
        .filter(inv::Column::TenantId.eq(tenant_id))
        .filter(inv::Column::ExpiresAt.gt(now))
        .order_by_asc(inv::Column::CreatedAt)
        .order_by_asc(inv::Column::Id)
        .all(db)
        .await
        .map_err(map_err)?)
}

/// The live invitations addressed to `email`, oldest first.
pub async fn list_for_email(db: &Db, email: &Email, now: i64) -> Result<Vec<Invitation>> {
    all(inv::Entity::find()
        .filter(inv::Column::Email.eq(email.as_str()))
        .filter(inv::Column::ExpiresAt.gt(now))
        .order_by_asc(inv::Column::CreatedAt)
        .order_by_asc(inv::Column::Id)
        .all(db)
        .await
        .map_err(map_err)?)
}

/// A live invitation by id, provided it is addressed to `email`.
pub async fn find_live_for_email(
    db: &Db,
    id: &str,
    email: &Email,
    now: i64,
) -> Result<Option<Invitation>> {
    inv::Entity::find()
        .filter(live_for(id, email, now))
        .unique(db)
        .await
        .map_err(map_err)?
        .map(to_domain)
        .transpose()
}

/// Deletes a tenant's invitation and returns it; `None` when there was none.
pub async fn delete_for_tenant(db: &Db, tenant_id: &str, id: &str) -> Result<Option<Invitation>> {
    let found = inv::Entity::find()
        .filter(inv::Column::Id.eq(id))
        .filter(inv::Column::TenantId.eq(tenant_id))
        .unique(db)
        .await
        .map_err(map_err)?;
    let Some(found) = found else { return Ok(None) };
    let res = inv::Entity::delete_many()
        .filter(inv::Column::Id.eq(id))
        .filter(inv::Column::TenantId.eq(tenant_id))
        .exec(db)
        .await
        .map_err(map_err)?;
    if res.rows_affected == 0 {
        return Ok(None);
    }
    to_domain(found).map(Some)
}

/// Deletes a live invitation addressed to `email` (declining it); true when there was one.
pub async fn delete_live_for_email(db: &Db, id: &str, email: &Email, now: i64) -> Result<bool> {
    let res = inv::Entity::delete_many()
        .filter(live_for(id, email, now))
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(res.rows_affected > 0)
}

/// Accepts a live invitation addressed to `email` for `user_id`, in one transaction: the
/// invitation goes and the membership is made with its role (a person who is already a member
/// keeps their role). False, with nothing changed, when no such invitation is live: it was
/// revoked, declined, accepted or has expired meanwhile.
pub async fn accept(
    db: &Db,
    i: &Invitation,
    email: &Email,
    user_id: &str,
    now: i64,
) -> Result<bool> {
    let tx = db.begin().await.map_err(map_err)?;
    // Delete first: of two simultaneous accepts (or an accept and a revoke) only one finds it.
    let res = inv::Entity::delete_many()
        .filter(live_for(&i.id, email, now))
        .exec(&tx)
        .await
        .map_err(map_err)?;
    if res.rows_affected == 0 {
        tx.rollback().await.map_err(map_err)?;
        return Ok(false);
    }
    tenant_members::Entity::insert(tenant_members::ActiveModel {
        tenant_id: Set(i.tenant_id.clone()),
        user_id: Set(user_id.to_owned()),
        role: Set(i.role.as_str().to_owned()),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            tenant_members::Column::TenantId,
            tenant_members::Column::UserId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(&tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(true)
}
