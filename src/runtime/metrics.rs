//! The server's metrics, rendered in the Prometheus text format for `GET /metrics`. What the
//! rest of the server records goes through the functions here, so names and labels live in one
//! place: requests by route pattern, method and status, their latency, tokens issued by grant,
//! cache hits and misses, throttled requests, the audit queue, usage rollup rows written, and the database pool (read when
//! rendered).
//!
//! Recording is a few atomic operations with labels that are `&'static str`, or a route pattern
//! interned once per route (the routes are a fixed set; a path is never a label). Without an
//! exporter (no `--metrics-token`) the `metrics` crate's no-op recorder takes every call.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use metrics::{
    SharedString, Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge,
    histogram,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::runtime::audit_writer::Auditor;
use crate::storage::{self, Db};

const HTTP_REQUESTS: &str = "portcullis_http_requests_total";
const HTTP_DURATION: &str = "portcullis_http_request_duration_seconds";
const TOKENS_ISSUED: &str = "portcullis_tokens_issued_total";
const CACHE_LOOKUPS: &str = "portcullis_cache_lookups_total";
const THROTTLED: &str = "portcullis_throttled_total";
const AUDIT_QUEUE: &str = "portcullis_audit_queue_depth";
const AUDIT_DROPPED: &str = "portcullis_audit_events_dropped_total";
const DB_CONNECTIONS: &str = "portcullis_db_pool_connections";
const DB_MAX: &str = "portcullis_db_pool_max_connections";
const USAGE_ROWS: &str = "portcullis_usage_rollup_rows_written_total";
const WRITE_GROUPS: &str = "portcullis_db_write_groups_total";
const WRITES: &str = "portcullis_db_writes_total";

/// Latency buckets, seconds: from a cached lookup (well under a millisecond) to a slow sign-in.
const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// How often histograms are drained when nobody scrapes, so their samples never pile up.
const UPKEEP: Duration = Duration::from_secs(5);

/// The process's one recorder: `metrics` takes a single global recorder, so every server in the
/// process (tests start many) shares it.
static RECORDER: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

/// Renders what was recorded; cheap to clone.
#[derive(Clone)]
pub struct Exporter {
    handle: PrometheusHandle,
}

impl Exporter {
    /// Installs the process's recorder (the first call does; later ones share it) and drains
    /// its histograms every few seconds on the current runtime.
    pub fn start() -> anyhow::Result<Self> {
        let handle = RECORDER
            .get_or_init(|| {
                let installed = PrometheusBuilder::new()
                    .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), &LATENCY_BUCKETS)
                    .and_then(PrometheusBuilder::install_recorder)
                    .map_err(|e| e.to_string());
                if installed.is_ok() {
                    describe();
                    // Exported from the start, so that an alert can watch it before any drop.
                    counter!(AUDIT_DROPPED).increment(0);
                }
                installed
            })
            .clone()
            .map_err(|e| anyhow::anyhow!("could not start the metrics recorder: {e}"))?;
        let upkeep = handle.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(UPKEEP);
            loop {
                tick.tick().await;
                upkeep.run_upkeep();
            }
        });
        Ok(Self { handle })
    }

    /// The Prometheus text exposition of everything recorded, with the database pool's and the
    /// audit queue's state as of now.
    pub fn render(&self, db: &Db, auditor: &Auditor) -> String {
        let pool = storage::pool_stats(db);
        let audit_queued = auditor.queued();
        gauge!(DB_CONNECTIONS, "state" => "in_use").set(pool.open.saturating_sub(pool.idle));
        gauge!(DB_CONNECTIONS, "state" => "idle").set(pool.idle);
        gauge!(DB_MAX).set(pool.max);
        gauge!(AUDIT_QUEUE).set(u32::try_from(audit_queued).unwrap_or(u32::MAX));
        self.handle.render()
    }
}

fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by route pattern, method and status"
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "Time to answer an HTTP request, by route pattern"
    );
    describe_counter!(TOKENS_ISSUED, "Access tokens issued, by grant");
    describe_counter!(
        CACHE_LOOKUPS,
        "In-memory cache lookups, by cache and result (hit or miss)"
    );
    describe_counter!(
        THROTTLED,
        "Requests refused by a throttle or rate limit, by kind"
    );
    describe_gauge!(AUDIT_QUEUE, "Audit events waiting for the writer");
    describe_counter!(
        AUDIT_DROPPED,
        "Audit events dropped because the queue was full"
    );
    describe_gauge!(
        DB_CONNECTIONS,
        "Database pool connections, by state (in_use or idle)"
    );
    describe_gauge!(DB_MAX, "Most connections the database pool opens");
    describe_counter!(
        WRITE_GROUPS,
        "Transactions the SQLite writer committed, each holding one or more writes"
    );
    describe_counter!(WRITES, "Writes applied by the SQLite writer");
    describe_counter!(
        USAGE_ROWS,
        "Usage rollup rows (hourly and daily buckets) written by the usage flush"
    );
}

/// A label for a route pattern, interned: the first request of each route allocates it.
/// Patterns come from the route table (or are "unmatched"), so the set is bounded.
pub fn route_label(pattern: Option<String>) -> SharedString {
    static ROUTES: OnceLock<RwLock<HashMap<String, Arc<str>>>> = OnceLock::new();
    let Some(pattern) = pattern else {
        return SharedString::const_str("unmatched");
    };
    let routes = ROUTES.get_or_init(RwLock::default);
    if let Some(found) = routes.read().ok().and_then(|r| r.get(&pattern).cloned()) {
        return SharedString::from(found);
    }
    let Ok(mut write) = routes.write() else {
        return SharedString::const_str("unmatched");
    };
    let label = write
        .entry(pattern)
        .or_insert_with_key(|p| Arc::from(p.as_str()))
        .clone();
    SharedString::from(label)
}

/// A label for an HTTP method; methods outside RFC 9110's are "other", so no caller can add
/// labels.
pub fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// A label for a status code (100 to 599; anything else is "other").
fn status_label(status: u16) -> SharedString {
    static STATUSES: OnceLock<Vec<Arc<str>>> = OnceLock::new();
    let all = STATUSES.get_or_init(|| (100..600u16).map(|s| Arc::from(s.to_string())).collect());
    match status
        .checked_sub(100)
        .and_then(|i| all.get(usize::from(i)))
    {
        Some(label) => SharedString::from(label.clone()),
        None => SharedString::const_str("other"),
    }
}

/// One answered HTTP request.
pub fn http_request(route: SharedString, method: &'static str, status: u16, took: Duration) {
    histogram!(HTTP_DURATION, "route" => route.clone()).record(took.as_secs_f64());
    counter!(HTTP_REQUESTS, "route" => route, "method" => method, "status" => status_label(status))
        .increment(1);
}

/// An access token issued by `grant` (the name the audit log's `token.issued` carries).
pub fn token_issued(grant: &str) {
    let grant = match grant {
        "authorization_code" => "authorization_code",
        "refresh_token" => "refresh_token",
        "client_credentials" => "client_credentials",
        "token_exchange" => "token_exchange",
        "session" => "session",
        "personal_token" => "personal_token",
        "secret_key" => "secret_key",
        _ => "other",
    };
    counter!(TOKENS_ISSUED, "grant" => grant).increment(1);
}

/// A lookup in the cache called `cache`.
pub fn cache_lookup(cache: &'static str, hit: bool) {
    let result = if hit { "hit" } else { "miss" };
    counter!(CACHE_LOOKUPS, "cache" => cache, "result" => result).increment(1);
}

/// A request refused by the throttle or limit of `kind`.
pub fn throttled(kind: &'static str) {
    counter!(THROTTLED, "kind" => kind).increment(1);
}

/// An audit event dropped because the queue was full.
pub fn audit_dropped() {
    counter!(AUDIT_DROPPED).increment(1);
}

/// Usage rollup rows written by one flush (`runtime::usage`).
pub fn usage_rows_written(rows: u64) {
    counter!(USAGE_ROWS).increment(rows);
}

/// One group of `writes` writes committed together (`storage::writer`).
pub fn write_group(writes: usize) {
    counter!(WRITE_GROUPS).increment(1);
    counter!(WRITES).increment(writes as u64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_bounded_whatever_the_request_sends() {
        assert_eq!(method_label("BREW"), "other");
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(&*status_label(404), "404");
        assert_eq!(&*status_label(99), "other");
        assert_eq!(&*status_label(600), "other");
        assert_eq!(&*route_label(None), "unmatched");
        let a = route_label(Some("/v1/users/me".into()));
        let b = route_label(Some("/v1/users/me".into()));
        assert_eq!(&*a, "/v1/users/me");
        assert_eq!(&*a, &*b);
    }
}
