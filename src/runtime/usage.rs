//! Usage counts: requests (and failures) per credential and per OAuth app, gathered in memory on
//! every use and written in batches as hourly and daily rollups by a background task (and once
//! more when the server stops), never once per request.
//!
//! The hot path is one short lock of one shard (chosen by a hash of the id) and two additions;
//! the id is copied only the first time it is seen between two flushes. Nothing here awaits
//! while a lock is held.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::clock::Clock;
use crate::storage;
use crate::storage::writer::{Write, Writer};

/// Shards per kind of subject: enough that concurrent requests rarely meet on one lock.
const SHARDS: usize = 16;
/// How often the writer takes what was gathered.
pub const FLUSH_EVERY: Duration = Duration::from_secs(5);
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    /// Requests made with a long-lived credential (or a token exchanged from one).
    Credential,
    /// Requests made with an OAuth app's access tokens.
    App,
    /// Access tokens issued to an OAuth app (failures: refused token requests).
    AppTokens,
}

impl Subject {
    const ALL: [Subject; 3] = [Subject::Credential, Subject::App, Subject::AppTokens];

    /// The name stored in `usage_rollups.subject_kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Credential => "credential",
            Subject::App => "app",
            Subject::AppTokens => "app_tokens",
        }
    }

    fn index(self) -> usize {
        match self {
            Subject::Credential => 0,
            Subject::App => 1,
            Subject::AppTokens => 2,
        }
    }
}

/// One subject's counts in one hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HourCount {
    /// Unix seconds at the start of the hour.
    pub hour: i64,
    /// Requests counted.
    pub requests: u64,
    /// Of which failed.
    pub failures: u64,
}

/// Per id, its counts by hour (almost always one hour; two across an hour's end).
type Shard = HashMap<String, Vec<HourCount>>;

/// Counts gathered in memory, shared by every worker; cheap to clone.
#[derive(Clone)]
pub struct Usage {
    kinds: Arc<[Vec<Mutex<Shard>>; 3]>,
    clock: Clock,
}

impl Default for Usage {
    fn default() -> Self {
        Self::new(Clock::default())
    }
}

/// What one flush writes: (subject, id, counts per hour).
pub type Batch = Vec<(Subject, String, Vec<HourCount>)>;

impl Usage {
    /// Empty counts, timed by `clock` (the server's one clock).
    pub fn new(clock: Clock) -> Self {
        let shards = || (0..SHARDS).map(|_| Mutex::default()).collect();
        Self {
            kinds: Arc::new([shards(), shards(), shards()]),
            clock,
        }
    }

    fn shard(&self, subject: Subject, id: &str) -> &Mutex<Shard> {
        let mut h = DefaultHasher::new();
        id.hash(&mut h);
        let i = usize::try_from(h.finish() % SHARDS as u64).unwrap_or(0);
        &self.kinds[subject.index()][i]
    }

    /// Counts one request of `subject` `id`, now; `failed` when it was refused or failed.
    pub fn count(&self, subject: Subject, id: &str, failed: bool) {
        self.count_at(subject, id, failed, self.clock.now());
    }

    fn count_at(&self, subject: Subject, id: &str, failed: bool, now: i64) {
        let hour = now.div_euclid(HOUR) * HOUR;
        let Ok(mut shard) = self.shard(subject, id).lock() else {
            return;
        };
        let counts = match shard.get_mut(id) {
            Some(c) => c,
            None => shard.entry(id.to_owned()).or_default(),
        };
        match counts.last_mut() {
            Some(last) if last.hour == hour => {
                last.requests += 1;
                last.failures += u64::from(failed);
            }
            _ => counts.push(HourCount {
                hour,
                requests: 1,
                failures: u64::from(failed),
            }),
        }
    }

    /// Takes everything gathered so far, leaving the counts empty.
    pub fn take(&self) -> Batch {
        let mut batch = Vec::new();
        for subject in Subject::ALL {
            for shard in &self.kinds[subject.index()] {
                let taken = match shard.lock() {
                    Ok(mut s) => std::mem::take(&mut *s),
                    Err(_) => continue,
                };
                batch.extend(taken.into_iter().map(|(id, c)| (subject, id, c)));
            }
        }
        batch
    }

    /// Puts back a batch that could not be written, so its counts are tried again.
    pub fn restore(&self, batch: Batch) {
        for (subject, id, hours) in batch {
            let Ok(mut shard) = self.shard(subject, &id).lock() else {
                continue;
            };
            let counts = shard.entry(id).or_default();
            for h in hours {
                match counts.iter_mut().find(|c| c.hour == h.hour) {
                    Some(c) => {
                        c.requests += h.requests;
                        c.failures += h.failures;
                    }
                    None => counts.push(h),
                }
            }
            counts.sort_by_key(|c| c.hour);
        }
    }

    /// Writes what was gathered into the hourly and daily rollups; returns rows written. On
    /// failure the counts are kept for the next flush.
    pub async fn flush(&self, db: &Writer) -> crate::error::Result<u64> {
        let batch = self.take();
        if batch.is_empty() {
            return Ok(0);
        }
        let rows = rollup_rows(&batch);
        let n = rows.len() as u64;
        match db.write(Write::Usage(rows)).await {
            Ok(_) => {
                crate::runtime::metrics::usage_rows_written(n);
                Ok(n)
            }
            Err(e) => {
                self.restore(batch);
                Err(e)
            }
        }
    }
}

/// The rows a batch adds to: each hour's counts to its hourly row and to its day's row.
pub fn rollup_rows(batch: &Batch) -> Vec<storage::usage::Row> {
    let mut rows: HashMap<(Subject, &str, &'static str, i64), (u64, u64)> = HashMap::new();
    for (subject, id, hours) in batch {
        for h in hours {
            let day = h.hour.div_euclid(DAY) * DAY;
            for key in [
                (*subject, id.as_str(), "hour", h.hour),
                (*subject, id.as_str(), "day", day),
            ] {
                let e = rows.entry(key).or_default();
                e.0 += h.requests;
                e.1 += h.failures;
            }
        }
    }
    rows.into_iter()
        .map(
            |((s, id, g, start), (requests, failures))| storage::usage::Row {
                subject_kind: s.as_str(),
                subject_id: id.to_owned(),
                granularity: g,
                bucket_start: start,
                requests: i64::try_from(requests).unwrap_or(i64::MAX),
                failures: i64::try_from(failures).unwrap_or(i64::MAX),
            },
        )
        .collect()
}

/// Starts the writer: flushes every `FLUSH_EVERY`. The server flushes once more when it stops.
pub fn spawn(db: Writer, usage: Usage) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(FLUSH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = usage.flush(&db).await {
                tracing::warn!(error = %e, "could not write usage counts");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_gather_per_subject_and_hour() {
        let u = Usage::default();
        u.count_at(Subject::Credential, "a", false, 10 * HOUR + 5);
        u.count_at(Subject::Credential, "a", true, 10 * HOUR + 6);
        u.count_at(Subject::App, "a", false, 10 * HOUR + 7);
        u.count_at(Subject::Credential, "a", false, 11 * HOUR);
        let mut batch = u.take();
        batch.sort_by_key(|(s, _, _)| s.index());
        assert_eq!(batch.len(), 2);
        let (_, id, hours) = &batch[0];
        assert_eq!(id, "a");
        assert_eq!(
            hours,
            &vec![
                HourCount {
                    hour: 10 * HOUR,
                    requests: 2,
                    failures: 1
                },
                HourCount {
                    hour: 11 * HOUR,
                    requests: 1,
                    failures: 0
                },
            ]
        );
        assert!(u.take().is_empty(), "taking empties the counts");
    }

    #[test]
    fn each_hour_adds_to_its_hourly_row_and_its_days_row() {
        let u = Usage::default();
        u.count_at(Subject::Credential, "k", true, DAY + 2 * HOUR);
        u.count_at(Subject::Credential, "k", false, DAY + 3 * HOUR);
        let rows = rollup_rows(&u.take());
        let day = rows.iter().find(|r| r.granularity == "day").unwrap();
        assert_eq!((day.bucket_start, day.requests, day.failures), (DAY, 2, 1));
        assert_eq!(rows.iter().filter(|r| r.granularity == "hour").count(), 2);
    }

    #[test]
    fn a_batch_put_back_adds_to_what_came_since() {
        let u = Usage::default();
        u.count_at(Subject::App, "c", false, HOUR);
        let batch = u.take();
        u.count_at(Subject::App, "c", true, HOUR + 1);
        u.restore(batch);
        let batch = u.take();
        assert_eq!(
            batch[0].2,
            vec![HourCount {
                hour: HOUR,
                requests: 2,
                failures: 1
            }]
        );
    }
}
