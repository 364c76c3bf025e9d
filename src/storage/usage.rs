//! Usage rollups (`usage_rollups`): counts added to hourly and daily buckets, and one subject's
//! buckets read back in time order. The same SQL runs on SQLite and PostgreSQL; the upsert adds
//! to what is stored, so servers sharing a database never overwrite each other's counts.

use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

use super::{Db, map_err};
use crate::error::Result;

/// Counts to add to one bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// `credential`, `app` or `app_tokens`.
    pub subject_kind: &'static str,
    /// The credential id or OAuth client id.
    pub subject_id: String,
    /// `hour` or `day`.
    pub granularity: &'static str,
    /// Unix seconds at the start of the bucket.
    pub bucket_start: i64,
    /// Requests to add.
    pub requests: i64,
    /// Failures to add.
    pub failures: i64,
}

/// One stored bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    /// Unix seconds at the start of the bucket.
    pub start: i64,
    /// Requests counted.
    pub requests: i64,
    /// Of which failed.
    pub failures: i64,
}

fn statement(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Statement {
    let backend = db.get_database_backend();
    let sql = match backend {
        // `$n` placeholders for PostgreSQL; SQLite reads `?n` the same way.
        DbBackend::Postgres => sql.to_owned(),
        _ => sql.replace('$', "?"),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// Adds every row's counts to its bucket, creating the buckets first seen (in one transaction
/// when `tx` is one: the writer's).
pub async fn add(tx: &impl ConnectionTrait, rows: &[Row]) -> Result<()> {
    const SQL: &str = "INSERT INTO usage_rollups \
        (id, subject_kind, subject_id, granularity, bucket_start, requests, failures) \
        VALUES ($1, $2, $3, $4, $5, $6, $7) \
        ON CONFLICT (id) DO UPDATE SET \
        requests = usage_rollups.requests + excluded.requests, \
        failures = usage_rollups.failures + excluded.failures";
    for r in rows {
        let id = format!(
            "{}:{}:{}:{}",
            r.subject_kind, r.subject_id, r.granularity, r.bucket_start
        );
        let values = vec![
            id.into(),
            r.subject_kind.into(),
            r.subject_id.clone().into(),
            r.granularity.into(),
            r.bucket_start.into(),
            r.requests.into(),
            r.failures.into(),
        ];
        tx.execute_raw(statement(tx, SQL, values))
            .await
            .map_err(map_err)?;
    }
    Ok(())
}

/// The stored buckets of one subject and granularity starting at or after `since`, oldest first.
pub async fn series(
    db: &Db,
    subject_kind: &str,
    subject_id: &str,
    granularity: &str,
    since: i64,
) -> Result<Vec<Bucket>> {
    const SQL: &str = "SELECT bucket_start, requests, failures FROM usage_rollups \
        WHERE subject_id = $1 AND granularity = $2 AND subject_kind = $3 AND bucket_start >= $4 \
        ORDER BY bucket_start";
    let values = vec![
        subject_id.into(),
        granularity.into(),
        subject_kind.into(),
        since.into(),
    ];
    let rows = db
        .query_all_raw(statement(db, SQL, values))
        .await
        .map_err(map_err)?;
    rows.iter()
        .map(|r| {
            Ok(Bucket {
                start: r.try_get("", "bucket_start").map_err(map_err)?,
                requests: r.try_get("", "requests").map_err(map_err)?,
                failures: r.try_get("", "failures").map_err(map_err)?,
            })
        })
        .collect()
}
