//! JWT signing keys: per algorithm, one active key, perhaps one waiting for its activation
//! time, and the retired ones still published. Adding keys tells every node (`KEYS_CHANNEL`).

use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};

use super::entity::signing_keys;
use super::notify::{KEYS_CHANNEL, notify};
use super::{Db, map_err};
use crate::domain::jwt::{SigningAlg, StoredKey};
use crate::error::{AppError, Result};

fn to_domain(m: signing_keys::Model) -> Result<StoredKey> {
    let alg = SigningAlg::parse(&m.alg).ok_or_else(|| {
        AppError::internal(anyhow::anyhow!(
            "key {}: unknown algorithm {:?}",
            m.kid,
            m.alg
        ))
    })?;
    Ok(StoredKey {
        kid: m.kid,
        alg,
        private_key: m.private_key,
        public_key: m.public_key,
        created_at: m.created_at,
        retired_at: m.retired_at,
        activates_at: m.activates_at,
    })
}

/// Keys still in use: the active ones and retired ones retired after `retired_after`.
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
    rows.into_iter().map(to_domain).collect()
}

/// Whether any key of `alg` exists at all, active or retired.
pub async fn any_key(db: &Db, alg: SigningAlg) -> Result<bool> {
    Ok(signing_keys::Entity::find()
        .filter(signing_keys::Column::Alg.eq(alg.as_str()))
        .one(db)
        .await
        .map_err(map_err)?
        .is_some())
}

/// What changes whenever keys are added: their number and the newest creation time. Cheap
/// enough to poll every few seconds.
pub async fn fingerprint(db: &Db) -> Result<(i64, Option<i64>)> {
    let row = signing_keys::Entity::find()
        .select_only()
        .column_as(Expr::col(signing_keys::Column::Kid).count(), "n")
        .column_as(Expr::col(signing_keys::Column::CreatedAt).max(), "newest")
        .into_tuple::<(i64, Option<i64>)>()
        .one(db)
        .await
        .map_err(map_err)?;
    Ok(row.unwrap_or((0, None)))
}

/// Adds keys and retires every other unretired key of their algorithms as of `at` (when the
/// new ones start signing), atomically; every listening node hears of it once committed.
pub async fn insert_keys_retiring_others(db: &Db, keys: &[StoredKey], at: i64) -> Result<()> {
    let tx = db.begin().await.map_err(map_err)?;
    for key in keys {
        signing_keys::Entity::update_many()
            .col_expr(signing_keys::Column::RetiredAt, Expr::value(at))
            .filter(signing_keys::Column::RetiredAt.is_null())
            .filter(signing_keys::Column::Alg.eq(key.alg.as_str()))
            .exec(&tx)
            .await
            .map_err(map_err)?;
        signing_keys::Entity::insert(signing_keys::ActiveModel {
            kid: Set(key.kid.clone()),
            alg: Set(key.alg.as_str().to_owned()),
            private_key: Set(key.private_key.clone()),
            public_key: Set(key.public_key.clone()),
            created_at: Set(key.created_at),
            retired_at: Set(None),
            activates_at: Set(key.activates_at),
        })
        .exec_without_returning(&tx)
        .await
        .map_err(map_err)?;
    }
    // PostgreSQL delivers a notification sent in a transaction only when it commits.
    notify(&tx, KEYS_CHANNEL, "").await?;
    tx.commit().await.map_err(map_err)
}

/// The advisory-lock key under which the first key of an algorithm is added ("portkeys").
const FIRST_KEY_LOCK: i64 = 0x706f_7274_6b65_7973;

/// Adds `key` as its algorithm's first key, unless a key of that algorithm exists by now;
/// returns whether it was added. On PostgreSQL the check and the insert run under a
/// transaction-scoped advisory lock, so servers making their first key at the same time (each
/// after its own slow prime search) add exactly one; SQLite's single writer serialises them.
pub async fn insert_first_key(db: &Db, key: &StoredKey) -> Result<bool> {
    let tx = db.begin().await.map_err(map_err)?;
    if tx.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        tx.execute_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [FIRST_KEY_LOCK.into()],
        ))
        .await
        .map_err(map_err)?;
    }
    let exists = signing_keys::Entity::find()
        .filter(signing_keys::Column::Alg.eq(key.alg.as_str()))
        .one(&tx)
        .await
        .map_err(map_err)?
        .is_some();
    if exists {
        tx.rollback().await.map_err(map_err)?;
        return Ok(false);
    }
    signing_keys::Entity::insert(signing_keys::ActiveModel {
        kid: Set(key.kid.clone()),
        alg: Set(key.alg.as_str().to_owned()),
        private_key: Set(key.private_key.clone()),
        public_key: Set(key.public_key.clone()),
        created_at: Set(key.created_at),
        retired_at: Set(None),
        activates_at: Set(key.activates_at),
    })
    .exec_without_returning(&tx)
    .await
    .map_err(map_err)?;
    notify(&tx, KEYS_CHANNEL, "").await?;
    tx.commit().await.map_err(map_err)?;
    Ok(true)
}
