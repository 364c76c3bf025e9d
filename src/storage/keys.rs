//! JWT signing keys.

use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, EntityTrait, QueryFilter, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};

use super::entity::signing_keys;
use super::{Db, map_err};
use crate::domain::jwt::StoredKey;
use crate::error::Result;

fn to_domain(m: signing_keys::Model) -> StoredKey {
    StoredKey {
        kid: m.kid,
        private_key: m.private_key,
        public_key: m.public_key,
        created_at: m.created_at,
        retired_at: m.retired_at,
    }
}

/// Keys still in use: the active one and retired ones retired after `retired_after`.
pub async fn list_keys(db: &Db, retired_after: i64) -> Result<Vec<StoredKey>> {
    let rows = signing_keys::Entity::find()
        .filter(
            signing_keys::Column::RetiredAt
                .is_null()
                .or(signing_keys::Column::RetiredAt.gt(retired_after)),
        )
        .all(db)
        .await
        .map_err(map_err)?;
    Ok(rows.into_iter().map(to_domain).collect())
}

/// Whether any key exists at all.
pub async fn any_key(db: &Db) -> Result<bool> {
    Ok(signing_keys::Entity::find()
        .one(db)
        .await
        .map_err(map_err)?
        .is_some())
}

/// Adds a key and retires every other active one, atomically.
pub async fn insert_key_retiring_others(db: &Db, key: &StoredKey, at: i64) -> Result<()> {
    let tx = db.begin().await.map_err(map_err)?;
    signing_keys::Entity::update_many()
        .col_expr(signing_keys::Column::RetiredAt, Expr::value(at))
        .filter(signing_keys::Column::RetiredAt.is_null())
        .exec(&tx)
        .await
        .map_err(map_err)?;
    signing_keys::Entity::insert(signing_keys::ActiveModel {
        kid: Set(key.kid.clone()),
        alg: Set("EdDSA".into()),
        private_key: Set(key.private_key.clone()),
        public_key: Set(key.public_key.clone()),
        created_at: Set(key.created_at),
        retired_at: Set(None),
    })
    .exec_without_returning(&tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)
}
