//! The failure throttle shared by the servers of one deployment through PostgreSQL. A failure
//! is rare, so each one is written at once (one short transaction) and answers with the key's
//! verdict for the whole deployment; a check happens on every attempt, including the hot
//! client-credentials path, so it reads the database only when this server has itself seen a
//! recent failure for the key. A "throttled until T" verdict, once seen, is kept here and refuses
//! without a round trip; a poll once a second brings in the verdicts other servers reached, so a
//! server that never saw the key fail learns of its throttle within a second.
//!
//! What this bounds: the failures counted are every server's, so the throttle starts after the
//! configured count give or take one attempt per server (a server that has seen none of the
//! key's failures lets one through, and learns the verdict from its write); once it starts,
//! every server that has seen a failure of the key refuses it, right secret or not, until the
//! window passes, and every other server within a second.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::clock::Clock;
use crate::storage::{Db, limits};

/// Verdicts kept before old ones are pruned.
const MAX_VERDICTS: usize = 100_000;

/// How far back a poll looks past the previous one, in seconds: servers' clocks differ a little,
/// and a verdict seen twice is harmless.
const POLL_OVERLAP: i64 = 5;

/// One failure budget's view of the shared counts (cheap to clone).
#[derive(Clone)]
pub struct SharedFailures {
    /// Keeps one budget's keys apart from another's in the shared table.
    scope: &'static str,
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    /// Scoped key → Unix seconds until which it is throttled.
    verdicts: Mutex<HashMap<String, i64>>,
}

impl SharedFailures {
    /// A view of the shared counts in `db`, for the budget named `scope`.
    pub fn new(db: Db, scope: &'static str) -> Self {
        Self {
            scope,
            inner: Arc::new(Inner {
                db,
                verdicts: Mutex::default(),
            }),
        }
    }

    /// Another budget over the same database and verdicts.
    pub fn scoped(&self, scope: &'static str) -> Self {
        Self {
            scope,
            inner: self.inner.clone(),
        }
    }

    fn row_key(&self, key: &str) -> String {
        format!("{}:{key}", self.scope)
    }

    /// `Err(seconds to wait)` while the key is throttled anywhere. `seen_here` says this server
    /// has a failure of the key within the window: only then is the database asked.
    pub async fn check(&self, key: &str, now: i64, seen_here: bool) -> Result<(), i64> {
        let row_key = self.row_key(key);
        if let Some(until) = self.cached(&row_key)
            && until > now
        {
            return Err(until - now);
        }
        if !seen_here {
            return Ok(());
        }
        match limits::throttled_until(&self.inner.db, &row_key).await {
            Ok(until) if until > now => {
                self.remember(row_key, until, now);
                Err(until - now)
            }
            Ok(_) => Ok(()),
            Err(e) => {
                // This server's own count still applies; the shared one is back with the database.
                tracing::warn!(error = %e, "could not read the shared failure count");
                Ok(())
            }
        }
    }

    /// Records a failure of `key` at `now` against a budget of `limit` per `window` seconds,
    /// and keeps the verdict it leads to.
    pub async fn fail(&self, key: &str, now: i64, limit: usize, window: i64) {
        let row_key = self.row_key(key);
        let update = |stored: &str| next_row(stored, now, limit, window);
        match limits::record_failure(&self.inner.db, &row_key, now, update).await {
            Ok(until) if until > now => self.remember(row_key, until, now),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not record a failure in the shared count"),
        }
    }

    fn cached(&self, row_key: &str) -> Option<i64> {
        self.inner.verdicts.lock().ok()?.get(row_key).copied()
    }

    fn remember(&self, row_key: String, until: i64, now: i64) {
        let Ok(mut verdicts) = self.inner.verdicts.lock() else {
            return;
        };
        if verdicts.len() >= MAX_VERDICTS {
            verdicts.retain(|_, until| *until > now);
        }
        let entry = verdicts.entry(row_key).or_insert(until);
        *entry = (*entry).max(until);
    }

    /// Polls once a second for verdicts other servers reached.
    pub fn spawn_poll(&self, clock: Clock) {
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            // The first poll brings in every throttle still running, so a server started
            // mid-throttle refuses like the others.
            let mut since = 0;
            loop {
                tick.tick().await;
                let now = clock.now();
                match limits::newly_throttled(&this.inner.db, since, now).await {
                    Ok(found) => {
                        for (row_key, until) in found {
                            this.remember(row_key, until, now);
                        }
                        since = now - POLL_OVERLAP;
                    }
                    Err(e) => tracing::warn!(error = %e, "could not poll the shared throttles"),
                }
            }
        });
    }
}

/// The stored row after one more failure at `now`: the newest `limit` failure times still in
/// the window, and the key throttled until the oldest of them leaves it once there are `limit`.
/// This is the in-process throttle's sliding window (`runtime::throttle::FailureThrottle`), kept
/// for every server at once: only the newest `limit` times can decide a verdict.
pub fn next_row(stored: &str, now: i64, limit: usize, window: i64) -> limits::FailureRow {
    let limit = limit.max(1);
    let mut times: Vec<i64> = stored
        .split(',')
        .filter_map(|t| t.parse().ok())
        .filter(|t| *t > now - window)
        .collect();
    times.push(now);
    times.sort_unstable();
    let keep_from = times.len().saturating_sub(limit);
    let times = &times[keep_from..];
    let throttled_until = match times.first() {
        Some(oldest) if times.len() >= limit => oldest + window,
        _ => 0,
    };
    limits::FailureRow {
        times: times
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(","),
        throttled_until,
        expires_at: now + window,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_from_every_server_throttle_once_the_limit_is_reached() {
        let mut stored = String::new();
        for (i, at) in [1000, 1001, 1002].into_iter().enumerate() {
            let row = next_row(&stored, at, 3, 300);
            stored = row.times;
            let expected = if i == 2 { 1300 } else { 0 };
            assert_eq!(row.throttled_until, expected, "after failure {}", i + 1);
        }
        assert_eq!(stored, "1000,1001,1002");
    }

    #[test]
    fn the_window_slides_as_on_one_server() {
        let row = next_row("1000,1100,1200", 1250, 3, 300);
        assert_eq!(
            row.times, "1100,1200,1250",
            "only the newest `limit` are kept"
        );
        assert_eq!(
            row.throttled_until, 1400,
            "until the oldest kept leaves the window"
        );
        let row = next_row("1000,1100", 1300, 3, 300);
        assert_eq!(row.times, "1100,1300", "1000 left the window at 1300");
        assert_eq!(row.throttled_until, 0);
        assert_eq!(row.expires_at, 1600);
    }

    #[test]
    fn a_garbled_or_empty_row_counts_only_what_it_can_read() {
        let row = next_row("x,,1290", 1300, 2, 300);
        assert_eq!(
            (row.times.as_str(), row.throttled_until),
            ("1290,1300", 1590)
        );
        let row = next_row("", 1300, 0, 300);
        assert_eq!(row.throttled_until, 1600, "a zero limit throttles at once");
    }
}
