//! The server's own secrets (session-cookie key, HMAC key, ...), generated on first run and kept
//! in the database so every restart and every node share them.

use sea_orm::{ActiveValue::Set, EntityTrait};

use super::entity::server_secrets;
use super::{Db, map_err};
use crate::error::Result;

/// Returns the secret called `name`, creating it with `generate` if it does not exist yet. Safe
/// under concurrent first starts: the insert ignores a conflict and the stored value wins.
/// (`exec_without_returning`, because sea-orm's `exec` reports an ignored conflict as an error,
/// which made a node lose the race and fail to start.)
pub async fn get_or_create(
    db: &Db,
    name: &str,
    generate: impl FnOnce() -> String,
    at: i64,
) -> Result<String> {
    if let Some(row) = server_secrets::Entity::find_by_id(name.to_owned())
        .one(db)
        .await
        .map_err(map_err)?
    {
        return Ok(row.value);
    }
    let row = server_secrets::ActiveModel {
        name: Set(name.to_owned()),
        value: Set(generate()),
        created_at: Set(at),
    };
    server_secrets::Entity::insert(row)
        .on_conflict_do_nothing()
        .exec_without_returning(db)
        .await
        .map_err(map_err)?;
    let row = server_secrets::Entity::find_by_id(name.to_owned())
        .one(db)
        .await
        .map_err(map_err)?
        .ok_or_else(|| {
            crate::error::AppError::internal(anyhow::anyhow!("secret {name} vanished"))
        })?;
    Ok(row.value)
}

/// Claims a one-time server-wide marker: true for exactly one caller, however many race (the
/// insert of an existing name changes nothing, on SQLite and PostgreSQL alike).
pub async fn claim(db: &Db, name: &str, at: i64) -> Result<bool> {
    let row = server_secrets::ActiveModel {
        name: Set(name.to_owned()),
        value: Set(String::new()),
        created_at: Set(at),
    };
    let inserted = server_secrets::Entity::insert(row)
        .on_conflict_do_nothing()
        .exec_without_returning(db)
        .await
        .map_err(map_err)?;
    Ok(matches!(inserted, sea_orm::TryInsertResult::Inserted(1)))
}

/// Gives a claimed marker back (what it was claimed for did not happen).
pub async fn release(db: &Db, name: &str) -> Result<()> {
    server_secrets::Entity::delete_by_id(name.to_owned())
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(())
}
