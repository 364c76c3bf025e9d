//! Where the abuse controls count, chosen once at startup from the database: a single server on
//! SQLite keeps its rate limits and failure throttles in memory (`runtime::throttle`), exactly as
//! fast as ever; servers sharing one PostgreSQL database count together through it, so a
//! credential's limit and an attacker's guesses are the deployment's, not once per server.
//! The shared rate limit leases permits a few at a time (`rates`, arithmetic in `gcra`), from
//! PostgreSQL or, with `--redis-url`, Redis; the shared failure throttle writes each failure to
//! PostgreSQL and caches verdicts (`failures`).

pub mod failures;
pub mod gcra;
pub mod rates;

use crate::clock::Clock;
use crate::config::Settings;
use crate::runtime::throttle::{FailureThrottle, RateLimits, RateState, SignInThrottle};
use crate::storage::Db;
use crate::storage::limits_redis::RedisLimits;
use failures::SharedFailures;
use rates::{LeasedRates, Store};

/// Per-credential request limits, wherever they count.
#[derive(Clone)]
pub enum RateLimiter {
    /// One server: governor's GCRA in memory.
    InProcess(RateLimits),
    /// Several servers on one PostgreSQL database (or one Redis server): leased from shared
    /// buckets.
    Shared(LeasedRates),
}

impl RateLimiter {
    /// Counts a request by `key` (a credential or token id) and says whether it may proceed.
    pub async fn check(&self, key: &str, clock: &Clock) -> RateState {
        match self {
            Self::InProcess(limits) => limits.check(key, clock.now()),
            Self::Shared(limits) => limits.check(key, clock).await,
        }
    }

    /// Requests by each of `keys` in the current minute (on every server when shared), and the
    /// limit.
    pub async fn recent(&self, keys: &[&str], now: i64) -> Vec<(u32, u32)> {
        match self {
            Self::InProcess(limits) => keys.iter().map(|k| limits.recent(k, now)).collect(),
            Self::Shared(limits) => limits.recent(keys, now).await,
        }
    }
}

/// The token endpoint's and sign-in's failure throttles and the rate limit for this server's
/// database: in memory on SQLite; on PostgreSQL shared through it, with their background tasks
/// (the verdict poll, the request-count flush) started here. With `--redis-url` the rate limit
/// is shared through Redis instead, whatever the database.
pub async fn build(
    settings: &Settings,
    db: &Db,
    clock: &Clock,
) -> anyhow::Result<(FailureThrottle, SignInThrottle, RateLimiter)> {
    let shared_db = !settings.database_url.is_sqlite();
    let mut throttle = FailureThrottle::new(settings.failure_limit, settings.failure_window_secs);
    if shared_db {
        let shared = SharedFailures::new(db.clone(), "account");
        shared.spawn_poll(clock.clone());
        throttle = throttle.shared_through(shared);
    }
    let store = match &settings.redis_url {
        Some(url) => Some(Store::Redis(RedisLimits::connect(url.expose()).await?)),
        None if shared_db => Some(Store::Postgres(db.clone())),
        None => None,
    };
    let rate_limits = match store {
        Some(store) => {
            let leased = LeasedRates::new(store, settings.rate_limit_per_minute);
            leased.spawn_flush(clock.clone());
            RateLimiter::Shared(leased)
        }
        None => RateLimiter::InProcess(RateLimits::new(settings.rate_limit_per_minute)),
    };
    let signin_throttle = SignInThrottle::new(throttle.clone(), settings.address_failures());
    Ok((throttle, signin_throttle, rate_limits))
}
