//! Passkeys: each registered WebAuthn credential, found by its owner (Settings → Passkeys) or by
//! its credential id (sign-in). A use advances the signature counter only from the value it was
//! read at, so two sign-ins racing with one counter value cannot both succeed.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, sea_query::Expr,
};

use super::entity::passkeys;
use super::{Db, UniqueExt, map_err};
use crate::domain::passkeys::StoredPasskey;
use crate::error::{AppError, Result};

fn to_domain(m: passkeys::Model) -> StoredPasskey {
    StoredPasskey {
        id: m.id,
        user_id: m.user_id,
        credential_id: m.credential_id,
        name: m.name,
        passkey: m.passkey,
        sign_count: u32::try_from(m.sign_count).unwrap_or(u32::MAX),
        created_at: m.created_at,
        last_used_at: m.last_used_at,
    }
}

/// Records a newly registered passkey; `Conflict` when its credential id is already registered
/// (to anyone).
pub async fn insert(db: &Db, p: &StoredPasskey) -> Result<()> {
    passkeys::Entity::insert(passkeys::ActiveModel {
        id: Set(p.id.clone()),
        user_id: Set(p.user_id.clone()),
        credential_id: Set(p.credential_id.clone()),
        name: Set(p.name.clone()),
        passkey: Set(p.passkey.clone()),
        sign_count: Set(i64::from(p.sign_count)),
        created_at: Set(p.created_at),
        last_used_at: Set(p.last_used_at),
    })
    .exec_without_returning(db)
    .await
    .map_err(|e| match map_err(e) {
        AppError::Conflict(_) => AppError::Conflict("This passkey is already registered.".into()),
        other => other,
    })?;
    Ok(())
}

/// A person's passkeys, oldest first.
pub async fn list(db: &Db, user_id: &str) -> Result<Vec<StoredPasskey>> {
    let rows = passkeys::Entity::find()
        .filter(passkeys::Column::UserId.eq(user_id))
        .order_by_asc(passkeys::Column::CreatedAt)
        .order_by_asc(passkeys::Column::Id)
        .all(db)
        .await
        .map_err(map_err)?;
    Ok(rows.into_iter().map(to_domain).collect())
}

/// Whether the person has any passkey.
pub async fn any(db: &Db, user_id: &str) -> Result<bool> {
    let found = passkeys::Entity::find()
        .filter(passkeys::Column::UserId.eq(user_id))
        .one(db)
        .await
        .map_err(map_err)?;
    Ok(found.is_some())
}

/// The passkey with this credential id (base64url), if any.
pub async fn find_by_credential_id(db: &Db, credential_id: &str) -> Result<Option<StoredPasskey>> {
    let row = passkeys::Entity::find()
        .filter(passkeys::Column::CredentialId.eq(credential_id))
        .unique(db)
        .await
        .map_err(map_err)?;
    Ok(row.map(to_domain))
}

/// The passkey `id` of the person `user_id`, if they have it.
pub async fn find_owned(db: &Db, user_id: &str, id: &str) -> Result<Option<StoredPasskey>> {
    let row = passkeys::Entity::find()
        .filter(passkeys::Column::Id.eq(id))
        .filter(passkeys::Column::UserId.eq(user_id))
        .unique(db)
        .await
        .map_err(map_err)?;
    Ok(row.map(to_domain))
}

/// Renames the person's passkey `id`; false when they have no such passkey.
pub async fn rename(db: &Db, user_id: &str, id: &str, name: &str) -> Result<bool> {
    let res = passkeys::Entity::update_many()
        .col_expr(passkeys::Column::Name, Expr::value(name))
        .filter(passkeys::Column::Id.eq(id))
        .filter(passkeys::Column::UserId.eq(user_id))
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(res.rows_affected > 0)
}

/// Deletes the person's passkey `id`; false when they have no such passkey.
pub async fn delete(db: &Db, user_id: &str, id: &str) -> Result<bool> {
    let res = passkeys::Entity::delete_many()
        .filter(passkeys::Column::Id.eq(id))
        .filter(passkeys::Column::UserId.eq(user_id))
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(res.rows_affected > 0)
}

/// Records a use at `at`: the counter moves from `from` to `to` and the stored credential is
/// replaced by `passkey` (which carries the same counter). False, and nothing changed, when the
/// counter is no longer `from` (another use got there first) or the passkey is gone.
pub async fn record_use(
    db: &Db,
    id: &str,
    from: u32,
    to: u32,
    passkey: &str,
    at: i64,
) -> Result<bool> {
    let res = passkeys::Entity::update_many()
        .col_expr(passkeys::Column::SignCount, Expr::value(i64::from(to)))
        .col_expr(passkeys::Column::Passkey, Expr::value(passkey))
        .col_expr(passkeys::Column::LastUsedAt, Expr::value(at))
        .filter(passkeys::Column::Id.eq(id))
        .filter(passkeys::Column::SignCount.eq(i64::from(from)))
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(res.rows_affected > 0)
}
