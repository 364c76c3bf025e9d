//! The counts servers sharing one PostgreSQL database keep together (`runtime::limits`): rate
//! buckets leased a few permits at a time in one atomic statement, the requests counted per
//! bucket and minute, and failure throttle keys. PostgreSQL only: a SQLite server is alone and
//! keeps these in memory, so nothing here runs on SQLite (the tables exist there all the same).
//!
//! The lease statement runs `runtime::limits::gcra::Gcra::lease` in SQL: both round integer
//! division toward zero, so they agree to the microsecond.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait, Value};

use super::{Db, map_err};
use crate::error::Result;

/// What a lease found: permits granted (0: the bucket is empty) and the bucket's new TAT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    /// Permits granted, at most the number asked for.
    pub granted: u32,
    /// The bucket's theoretical arrival time after the lease, Unix microseconds.
    pub tat_us: i64,
}

fn pg(sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// Takes up to `want` permits from `bucket` for a limit of `limit` per minute whose emission
/// interval is `interval_us`, at `now_us`; the row lives at least until `expires_at`.
pub async fn lease(
    db: &Db,
    bucket: &str,
    now_us: i64,
    want: u32,
    limit: u32,
    interval_us: i64,
    expires_at: i64,
) -> Result<Lease> {
    // $2 now, $3 want, $4 interval, $5 limit: room = (now + interval × limit − max(tat, now))
    // / interval, granted = min(want, max(0, room)), tat = max(tat, now) + granted × interval.
    const SQL: &str = "INSERT INTO rate_buckets AS b \
        (bucket, tat_us, granted, usage_minute, usage_count, expires_at) \
        VALUES ($1, $2 + LEAST($3, $5) * $4, LEAST($3, $5), 0, 0, $6) \
        ON CONFLICT (bucket) DO UPDATE SET \
        granted = LEAST($3, GREATEST(0, ($2 + $4 * $5 - GREATEST(b.tat_us, $2)) / $4)), \
        tat_us = GREATEST(b.tat_us, $2) \
            + LEAST($3, GREATEST(0, ($2 + $4 * $5 - GREATEST(b.tat_us, $2)) / $4)) * $4, \
        expires_at = GREATEST(b.expires_at, $6) \
        RETURNING tat_us, granted";
    let row = db
        .query_one_raw(pg(
            SQL,
            vec![
                bucket.into(),
                now_us.into(),
                i64::from(want).into(),
                interval_us.into(),
                i64::from(limit).into(),
                expires_at.into(),
            ],
        ))
        .await
        .map_err(map_err)?
        .ok_or_else(|| {
            crate::error::AppError::internal(anyhow::anyhow!("lease returned no row"))
        })?;
    let granted: i64 = row.try_get("", "granted").map_err(map_err)?;
    Ok(Lease {
        granted: u32::try_from(granted).unwrap_or(0),
        tat_us: row.try_get("", "tat_us").map_err(map_err)?,
    })
}

/// Adds requests counted by this server, `(bucket, minute, count)` with each bucket once, to
/// each bucket's count for its minute; a count for a minute older than the stored one is
/// dropped, a newer one starts the minute afresh.
pub async fn add_usage(db: &Db, counts: &[(String, i64, u32)], expires_at: i64) -> Result<()> {
    // One JSON parameter, so the statement is the same whatever the number of buckets: every
    // distinct statement would be prepared and kept in each connection's cache.
    let rows: Vec<serde_json::Value> = counts
        .iter()
        .map(|(bucket, minute, count)| serde_json::json!([bucket, minute, count]))
        .collect();
    const SQL: &str = "INSERT INTO rate_buckets AS b \
        (bucket, tat_us, granted, usage_minute, usage_count, expires_at) \
        SELECT r->>0, 0, 0, (r->>1)::bigint, (r->>2)::bigint, $1 \
        FROM jsonb_array_elements($2::jsonb) AS r \
        ON CONFLICT (bucket) DO UPDATE SET \
        usage_count = CASE \
            WHEN b.usage_minute = EXCLUDED.usage_minute \
                THEN b.usage_count + EXCLUDED.usage_count \
            WHEN b.usage_minute > EXCLUDED.usage_minute THEN b.usage_count \
            ELSE EXCLUDED.usage_count END, \
        usage_minute = GREATEST(b.usage_minute, EXCLUDED.usage_minute), \
        expires_at = GREATEST(b.expires_at, EXCLUDED.expires_at)";
    db.execute_raw(pg(
        SQL,
        vec![expires_at.into(), serde_json::Value::Array(rows).into()],
    ))
    .await
    .map_err(map_err)?;
    Ok(())
}

/// Requests counted in `minute` for each of `buckets` that has any.
pub async fn usage(db: &Db, buckets: &[&str], minute: i64) -> Result<HashMap<String, u32>> {
    if buckets.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = db
        .query_all_raw(pg(
            "SELECT bucket, usage_count FROM rate_buckets WHERE usage_minute = $1 \
             AND bucket IN (SELECT jsonb_array_elements_text($2::jsonb))",
            vec![minute.into(), serde_json::json!(buckets).into()],
        ))
        .await
        .map_err(map_err)?;
    rows.iter()
        .map(|r| {
            let count: i64 = r.try_get("", "usage_count").map_err(map_err)?;
            Ok((
                r.try_get("", "bucket").map_err(map_err)?,
                u32::try_from(count).unwrap_or(u32::MAX),
            ))
        })
        .collect()
}

/// A failure throttle key's row after one more failure: its recent failure times (as stored)
/// and until when it is throttled (0: it is not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureRow {
    /// Unix seconds of the newest failures, comma-separated, oldest first.
    pub times: String,
    /// Unix seconds until which the key is refused; 0 when it is not.
    pub throttled_until: i64,
    /// When the row tells nothing any more (its newest failure has left the window).
    pub expires_at: i64,
}

/// Records a failure for `key` at `now`: locks the key's row (creating it), lets `update` turn
/// the stored times into the new row, and stores it, in one transaction so failures on several
/// servers at once are each counted. Returns the new row's "throttled until" (0: not throttled).
pub async fn record_failure(
    db: &Db,
    key: &str,
    now: i64,
    update: impl FnOnce(&str) -> FailureRow,
) -> Result<i64> {
    let tx = db.begin().await.map_err(map_err)?;
    // The no-op update takes the row lock whether or not the row existed.
    let row = tx
        .query_one_raw(pg(
            "INSERT INTO failure_counts AS f \
             (throttle_key, times, throttled_until, throttled_at, expires_at) \
             VALUES ($1, '', 0, 0, $2) \
             ON CONFLICT (throttle_key) DO UPDATE SET times = f.times \
             RETURNING times, throttled_until",
            vec![key.into(), now.into()],
        ))
        .await
        .map_err(map_err)?
        .ok_or_else(|| crate::error::AppError::internal(anyhow::anyhow!("no failure row")))?;
    let times: String = row.try_get("", "times").map_err(map_err)?;
    let before: i64 = row.try_get("", "throttled_until").map_err(map_err)?;
    let next = update(&times);
    // `throttled_at` marks a new verdict, so other servers' polls pick it up.
    let throttled_at = if next.throttled_until > before {
        now
    } else {
        0
    };
    tx.execute_raw(pg(
        "UPDATE failure_counts SET times = $2, throttled_until = $3, \
         throttled_at = GREATEST(throttled_at, $4), expires_at = $5 WHERE throttle_key = $1",
        vec![
            key.into(),
            next.times.into(),
            next.throttled_until.into(),
            throttled_at.into(),
            next.expires_at.into(),
        ],
    ))
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(next.throttled_until)
}

/// Until when `key` is throttled, as last recorded (0: not, or no failures).
pub async fn throttled_until(db: &Db, key: &str) -> Result<i64> {
    let row = db
        .query_one_raw(pg(
            "SELECT throttled_until FROM failure_counts WHERE throttle_key = $1",
            vec![key.into()],
        ))
        .await
        .map_err(map_err)?;
    match row {
        Some(r) => r.try_get("", "throttled_until").map_err(map_err),
        None => Ok(0),
    }
}

/// Keys whose throttle began at or after `since` and still holds at `now`, with its end.
pub async fn newly_throttled(db: &Db, since: i64, now: i64) -> Result<Vec<(String, i64)>> {
    let rows = db
        .query_all_raw(pg(
            "SELECT throttle_key, throttled_until FROM failure_counts \
             WHERE throttled_at >= $1 AND throttled_until > $2",
            vec![since.into(), now.into()],
        ))
        .await
        .map_err(map_err)?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("", "throttle_key").map_err(map_err)?,
                r.try_get("", "throttled_until").map_err(map_err)?,
            ))
        })
        .collect()
}
