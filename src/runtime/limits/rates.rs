//! The per-credential rate limit shared by the servers of one deployment through PostgreSQL, or
//! Redis with `--redis-url`.
//! Each server leases a few permits at a time (`Gcra::lease_size`: 1/50 of the limit) from the
//! bucket's shared GCRA state in one atomic statement and serves requests from its lease until
//! it runs out, so a busy credential costs one round trip per lease rather than per request, and
//! an idle one none. A server that finds the bucket empty keeps its "no permit before T" and
//! refuses locally until then. Requests counted for the settings page are gathered here and
//! added to the shared count once a second. Should the database not answer, the server falls
//! back to its own in-process limit until it does.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::gcra::{Gcra, retry_secs};
use crate::clock::Clock;
use crate::error::Result;
use crate::runtime::throttle::{RateLimits, RateState};
use crate::storage::Db;
use crate::storage::limits::{self, Lease};
use crate::storage::limits_redis::RedisLimits;

/// Buckets tracked before idle ones are pruned.
const MAX_BUCKETS: usize = 100_000;

/// How long the in-process limit stands in after the store failed to answer, in microseconds,
/// before the store is tried again: requests do not each wait for its timeout meanwhile.
const STAND_IN_US: i64 = 5_000_000;

/// How long a bucket's shared row outlives its last write, in seconds: its TAT is never more
/// than a minute ahead and its count is for the current minute.
const ROW_LIFETIME: i64 = 120;

/// Where the shared buckets live.
#[derive(Clone)]
pub enum Store {
    /// The deployment's PostgreSQL database.
    Postgres(Db),
    /// A Redis server (`--redis-url`).
    Redis(RedisLimits),
}

impl Store {
    async fn lease(&self, bucket: &str, now_us: i64, gcra: Gcra) -> Result<Lease> {
        let want = gcra.lease_size();
        match self {
            Self::Postgres(db) => {
                let expires_at = now_us.div_euclid(1_000_000) + ROW_LIFETIME;
                let (limit, interval) = (gcra.limit(), gcra.interval_us());
                limits::lease(db, bucket, now_us, want, limit, interval, expires_at).await
            }
            Self::Redis(redis) => {
                redis
                    .lease(bucket, now_us, want, gcra.limit(), gcra.interval_us())
                    .await
            }
        }
    }

    async fn add_usage(&self, counts: &[(String, i64, u32)], now: i64) -> Result<()> {
        match self {
            Self::Postgres(db) => limits::add_usage(db, counts, now + ROW_LIFETIME).await,
            Self::Redis(redis) => redis.add_usage(counts).await,
        }
    }

    async fn usage(&self, keys: &[&str], minute: i64) -> Result<HashMap<String, u32>> {
        match self {
            Self::Postgres(db) => limits::usage(db, keys, minute).await,
            Self::Redis(redis) => redis.usage(keys, minute).await,
        }
    }
}

/// A rate limit whose buckets live in a shared store (cheap to clone).
#[derive(Clone)]
pub struct LeasedRates {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    gcra: Gcra,
    /// What this server holds of each bucket; the async lock makes concurrent requests of one
    /// bucket wait for a lease in flight instead of each taking another.
    held: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Held>>>>,
    /// Requests counted here and not yet added to the shared count: bucket → (minute, count).
    pending: Mutex<HashMap<String, (i64, u32)>>,
    /// The in-process limit, used while the store does not answer.
    fallback: RateLimits,
    /// Unix microseconds until which `fallback` stands in for the store.
    fallback_until_us: AtomicI64,
}

/// A server's share of one bucket.
#[derive(Default)]
struct Held {
    /// Permits leased and not yet used.
    permits: u32,
    /// The bucket's TAT as of the last lease, for the `X-RateLimit-*` headers.
    tat_us: i64,
    /// Unix microseconds before which the shared bucket has no permit.
    empty_until_us: i64,
}

impl LeasedRates {
    /// `per_minute` requests per bucket, shared through `store`.
    pub fn new(store: Store, per_minute: u32) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                gcra: Gcra::per_minute(per_minute),
                held: Mutex::default(),
                pending: Mutex::default(),
                fallback: RateLimits::new(per_minute),
                fallback_until_us: AtomicI64::new(0),
            }),
        }
    }

    /// Counts a request by `key` and says whether it may proceed.
    pub async fn check(&self, key: &str, clock: &Clock) -> RateState {
        let inner = &self.inner;
        let gcra = inner.gcra;
        let now_us = clock.now_micros();
        let now = now_us.div_euclid(1_000_000);
        self.count(key, now);
        if now_us < inner.fallback_until_us.load(Ordering::Relaxed) {
            return inner.fallback.check(key, now);
        }
        let slot = self.slot(key);
        let mut held = slot.lock().await;
        if held.permits == 0 && now_us >= held.empty_until_us {
            match inner.store.lease(key, now_us, gcra).await {
                Ok(lease) => {
                    held.permits = lease.granted;
                    held.tat_us = lease.tat_us;
                    if lease.granted == 0 {
                        held.empty_until_us = now_us + gcra.wait_us(lease.tat_us, now_us);
                    }
                }
                Err(e) => {
                    drop(held);
                    let until = now_us + STAND_IN_US;
                    if inner.fallback_until_us.swap(until, Ordering::Relaxed) < now_us {
                        tracing::warn!(
                            error = %e,
                            "could not lease from the shared rate limit: counting in memory"
                        );
                    }
                    return inner.fallback.check(key, now);
                }
            }
        }
        if held.permits > 0 {
            held.permits -= 1;
            return RateState {
                limit: gcra.limit(),
                remaining: gcra
                    .remaining(held.tat_us, now_us)
                    .saturating_add(held.permits),
                reset: gcra.reset_secs(held.tat_us, now_us),
                retry_after: None,
            };
        }
        let wait = retry_secs(held.empty_until_us - now_us);
        crate::runtime::metrics::throttled("rate_limit");
        RateState {
            limit: gcra.limit(),
            remaining: 0,
            reset: wait,
            retry_after: Some(wait),
        }
    }

    /// This server's share of `key`'s bucket.
    fn slot(&self, key: &str) -> Arc<tokio::sync::Mutex<Held>> {
        let Ok(mut held) = self.inner.held.lock() else {
            return Arc::default();
        };
        if held.len() >= MAX_BUCKETS {
            // Buckets no request is using; dropping their leftover permits only under-admits.
            held.retain(|_, slot| {
                Arc::strong_count(slot) > 1 || slot.try_lock().is_ok_and(|h| h.permits > 0)
            });
        }
        held.entry(key.to_owned()).or_default().clone()
    }

    fn count(&self, key: &str, now: i64) {
        let Ok(mut pending) = self.inner.pending.lock() else {
            return;
        };
        let minute = now.div_euclid(60);
        let entry = pending.entry(key.to_owned()).or_insert((minute, 0));
        if entry.0 != minute {
            // The end of last minute's count is dropped: the page shows only the current one.
            *entry = (minute, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }

    /// Requests by each of `keys` in the current minute on every server (as of the last second's
    /// flush, plus this server's own since), and the limit.
    pub async fn recent(&self, keys: &[&str], now: i64) -> Vec<(u32, u32)> {
        let minute = now.div_euclid(60);
        let shared = self
            .inner
            .store
            .usage(keys, minute)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "could not read the shared request counts");
                HashMap::new()
            });
        let pending = self.inner.pending.lock().ok();
        keys.iter()
            .map(|k| {
                let here = pending
                    .as_ref()
                    .and_then(|p| p.get(*k))
                    .filter(|(m, _)| *m == minute)
                    .map_or(0, |(_, c)| *c);
                let total = shared.get(*k).copied().unwrap_or(0).saturating_add(here);
                (total, self.inner.gcra.limit())
            })
            .collect()
    }

    /// Adds the requests counted here to the shared counts.
    pub async fn flush(&self, now: i64) -> Result<()> {
        let taken: Vec<(String, i64, u32)> = match self.inner.pending.lock() {
            Ok(mut pending) => pending.drain().map(|(k, (m, c))| (k, m, c)).collect(),
            Err(_) => return Ok(()),
        };
        if taken.is_empty() {
            return Ok(());
        }
        self.inner.store.add_usage(&taken, now).await
    }

    /// Flushes the request counts once a second.
    pub fn spawn_flush(&self, clock: Clock) {
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                if let Err(e) = this.flush(clock.now()).await {
                    tracing::warn!(error = %e, "could not share the request counts");
                }
            }
        });
    }
}
