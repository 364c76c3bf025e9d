//! The janitor: once a minute, through the writer (`storage::writer`) so that no request's
//! write waits on its deletes, removes expired sessions, codes, refresh tokens, opaque access
//! tokens, session-token records, revoked-token entries, expired invitations and mailed links, shared rate and failure counts that
//! tell nothing any more, usage rollups past their retention, and old audit events, a batch at a time, yielding between batches.

use std::time::Duration;

use crate::clock::Clock;
use crate::error::Result;
use crate::storage::purge;
use crate::storage::writer::{Write, Writer};

/// What to remove: (table, key column, condition comparing to the cutoff, how far back).
struct Rule {
    table: &'static str,
    key: &'static str,
    condition: &'static str,
    keep_secs: i64,
}

/// Runs one pass over every table; returns how many rows went.
pub async fn run_once(db: &Writer, now: i64, audit_retention_days: i64) -> Result<u64> {
    let rules = [
        Rule {
            table: "sessions",
            key: "id",
            condition: "expires_at <",
            keep_secs: 0,
        },
        // Codes are kept an hour past expiry so a late replay is still recognised as one.
        Rule {
            table: "auth_codes",
            key: "code_hash",
            condition: "expires_at <",
            keep_secs: 3600,
        },
        Rule {
            table: "refresh_tokens",
            key: "token_hash",
            condition: "expires_at <",
            keep_secs: 0,
        },
        Rule {
            table: "opaque_access_tokens",
            key: "token_hash",
            condition: "expires_at <",
            keep_secs: 0,
        },
        Rule {
            table: "session_tokens",
            key: "jti",
            condition: "expires_at <",
            keep_secs: 0,
        },
        Rule {
            table: "revoked_access_tokens",
            key: "jti",
            condition: "expires_at <",
            keep_secs: 0,
        },
        Rule {
            table: "tenant_invitations",
            key: "id",
            condition: "expires_at <",
            keep_secs: 0,
        },
        Rule {
            table: "email_tokens",
            key: "token_hash",
            condition: "expires_at <",
            keep_secs: 0,
        },
        // The counts servers share on PostgreSQL (empty on SQLite).
        Rule {
            table: "rate_buckets",
            key: "bucket",
            condition: "expires_at <",
            keep_secs: 0,
        },
        Rule {
            table: "failure_counts",
            key: "throttle_key",
            condition: "expires_at <",
            keep_secs: 0,
        },
        // Usage charts show 48 hours hourly and 30 days daily; a little more is kept.
        Rule {
            table: "usage_rollups",
            key: "id",
            condition: "granularity = 'hour' AND bucket_start <",
            keep_secs: 8 * 86_400,
        },
        Rule {
            table: "usage_rollups",
            key: "id",
            condition: "granularity = 'day' AND bucket_start <",
            keep_secs: 400 * 86_400,
        },
        Rule {
            table: "audit_events",
            key: "id",
            condition: "at <",
            keep_secs: audit_retention_days * 86_400,
        },
    ];
    let mut total = 0;
    for r in rules {
        loop {
            let batch = Write::Purge {
                table: r.table,
                key: r.key,
                condition: r.condition,
                cutoff: now - r.keep_secs,
            };
            let n = db.write(batch).await?.purged()?;
            total += n;
            if n < u64::from(purge::BATCH) {
                break;
            }
            tokio::task::yield_now().await;
        }
    }
    Ok(total)
}

/// Starts the janitor; `clock` says what has expired (the server's one clock, so what the
/// janitor removes agrees with what requests already refuse).
pub fn spawn(db: Writer, clock: Clock, audit_retention_days: i64) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            match run_once(&db, clock.now(), audit_retention_days).await {
                Ok(n) if n > 0 => tracing::debug!(rows = n, "purged expired rows"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "purge failed"),
            }
        }
    });
}
