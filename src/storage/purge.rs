//! Deleting what has expired, in small batches so no request waits behind a long delete.

use sea_orm::{ConnectionTrait, DbBackend, Statement};

use super::map_err;
use crate::error::Result;

/// Rows deleted per statement.
pub const BATCH: u32 = 500;

/// One batch of `DELETE ... WHERE <key> IN (SELECT <key> ... WHERE <cond> LIMIT n)`; returns how
/// many rows went. The same SQL runs on SQLite and PostgreSQL.
pub async fn delete_batch(
    db: &impl ConnectionTrait,
    table: &str,
    key: &str,
    condition: &str,
    cutoff: i64,
) -> Result<u64> {
    let placeholder = match db.get_database_backend() {
        DbBackend::Postgres => "$1",
        _ => "?",
    };
    let sql = format!(
        "DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {condition} {placeholder} LIMIT {BATCH})"
    );
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            sql,
            [cutoff.into()],
        ))
        .await
        .map_err(map_err)?;
    Ok(res.rows_affected())
}
