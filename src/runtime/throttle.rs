//! Abuse controls kept in memory: the per-credential request rate (governor's GCRA) with a
//! per-minute usage count for the settings page, and the failure throttle for sign-in and the
//! token endpoint, keyed by source address together with the account or client, so a stranger
//! elsewhere cannot lock anyone out. Sign-in failures also count against a larger budget per
//! source address across all accounts (`SignInThrottle`), so trying one password against many
//! emails from one address is throttled too. Only failures count; successful requests are never
//! throttled by it.

use std::collections::{HashMap, VecDeque};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use governor::clock::{Clock as _, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::runtime::limits::failures::SharedFailures;

/// Keys tracked before old entries are pruned.
const MAX_KEYS: usize = 100_000;

/// Per-key failure counts within a sliding window: this server's, and with `shared` every
/// server's on the same PostgreSQL database (`runtime::limits::failures`).
#[derive(Clone)]
pub struct FailureThrottle {
    limit: usize,
    window: i64,
    failures: Arc<Mutex<HashMap<String, VecDeque<i64>>>>,
    shared: Option<SharedFailures>,
}

impl FailureThrottle {
    /// `limit` failures per `window` seconds.
    pub fn new(limit: u32, window: u32) -> Self {
        Self {
            limit: limit as usize,
            window: i64::from(window),
            failures: Arc::default(),
            shared: None,
        }
    }

    /// The same budget, counted across every server sharing `shared`'s database.
    pub fn shared_through(mut self, shared: SharedFailures) -> Self {
        self.shared = Some(shared);
        self
    }

    /// Another budget of `limit` failures in the same window, kept where this one is (shared
    /// as `scope` when this one is shared).
    fn sibling(&self, limit: u32, scope: &'static str) -> Self {
        Self {
            limit: limit as usize,
            window: self.window,
            failures: Arc::default(),
            shared: self.shared.as_ref().map(|s| s.scoped(scope)),
        }
    }

    /// `Err(seconds to wait)` while the key has used up its failures.
    pub async fn check(&self, key: &str, now: i64) -> Result<(), i64> {
        let (here, seen_here) = self.check_here(key, now);
        match &self.shared {
            Some(shared) if here.is_ok() => shared.check(key, now, seen_here).await,
            _ => here,
        }
    }

    /// This server's verdict, and whether it has seen a failure of the key within the window.
    fn check_here(&self, key: &str, now: i64) -> (Result<(), i64>, bool) {
        let Ok(mut map) = self.failures.lock() else {
            return (Ok(()), false);
        };
        let Some(times) = map.get_mut(key) else {
            return (Ok(()), false);
        };
        while times.front().is_some_and(|t| *t <= now - self.window) {
            times.pop_front();
        }
        if times.len() >= self.limit {
            let oldest = times.front().copied().unwrap_or(now);
            return (Err((oldest + self.window - now).max(1)), true);
        }
        (Ok(()), !times.is_empty())
    }

    /// Records a failure (on a shared budget, before answering: the next attempt anywhere
    /// counts it).
    pub async fn fail(&self, key: &str, now: i64) {
        self.fail_here(key, now);
        if let Some(shared) = &self.shared {
            shared.fail(key, now, self.limit, self.window).await;
        }
    }

    fn fail_here(&self, key: &str, now: i64) {
        let Ok(mut map) = self.failures.lock() else {
            return;
        };
        if map.len() >= MAX_KEYS {
            let window = self.window;
            map.retain(|_, t| t.back().is_some_and(|last| *last > now - window));
        }
        map.entry(key.to_owned()).or_default().push_back(now);
    }
}

/// The throttle key of a source address and an account or client (an overlong one kept as its
/// fingerprint, so a key never holds more than a few hundred bytes whatever was sent).
pub fn key(ip: Option<std::net::IpAddr>, who: &str) -> String {
    format!(
        "{}|{}",
        ip.map(|i| i.to_string()).unwrap_or_default(),
        crate::domain::bounded::text(&who.to_lowercase(), crate::domain::bounded::EMAIL)
    )
}

/// The two budgets a failed sign-in counts against: per source address and account (as the token
/// endpoint counts per address and client), and per source address across every account, larger,
/// so that rotating emails from one address does not reset the count. Both share one window.
#[derive(Clone)]
pub struct SignInThrottle {
    per_account: FailureThrottle,
    per_address: FailureThrottle,
}

impl SignInThrottle {
    /// `per_account` (which may be shared with the token endpoint: their keys never collide) and
    /// `per_address_limit` failures in its window from one address, whatever the account.
    pub fn new(per_account: FailureThrottle, per_address_limit: u32) -> Self {
        Self {
            per_address: per_account.sibling(per_address_limit, "address"),
            per_account,
        }
    }

    /// `Err(seconds to wait)` while either budget is used up. Without a known address only the
    /// per-account budget applies: lumping every such request together would let one stranger
    /// lock all of them out.
    pub async fn check(
        &self,
        ip: Option<std::net::IpAddr>,
        email: &str,
        now: i64,
    ) -> Result<(), i64> {
        let account = self.per_account.check(&key(ip, email), now).await;
        let address = match ip {
            Some(ip) => self.per_address.check(&address_key(ip), now).await,
            None => Ok(()),
        };
        let verdict = match (account, address) {
            (Ok(()), Ok(())) => Ok(()),
            (Err(a), Err(b)) => Err(a.max(b)),
            (Err(wait), _) | (_, Err(wait)) => Err(wait),
        };
        if verdict.is_err() {
            crate::runtime::metrics::throttled("sign_in");
        }
        verdict
    }

    /// Records a failed sign-in against both budgets.
    pub async fn fail(&self, ip: Option<std::net::IpAddr>, email: &str, now: i64) {
        self.per_account.fail(&key(ip, email), now).await;
        if let Some(ip) = ip {
            self.per_address.fail(&address_key(ip), now).await;
        }
    }

    /// `Err(seconds to wait)` while the address's budget is used up: for a sign-in that names
    /// no account up front (a passkey's). Without a known address nothing applies.
    pub async fn check_address(&self, ip: Option<std::net::IpAddr>, now: i64) -> Result<(), i64> {
        let Some(ip) = ip else {
            return Ok(());
        };
        let verdict = self.per_address.check(&address_key(ip), now).await;
        if verdict.is_err() {
            crate::runtime::metrics::throttled("sign_in");
        }
        verdict
    }

    /// Records a failed sign-in that named no account against the address's budget.
    pub async fn fail_address(&self, ip: Option<std::net::IpAddr>, now: i64) {
        if let Some(ip) = ip {
            self.per_address.fail(&address_key(ip), now).await;
        }
    }
}

/// The per-address budget's key: an IPv4 address, or an IPv6 address's /64, the block one
/// subscriber is usually given (RFC 6177 §3), since whoever holds one address of it can use any.
pub(crate) fn address_key(ip: std::net::IpAddr) -> String {
    match ip.to_canonical() {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

type Limiter =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// What a rate-limit check found, for the `X-RateLimit-*` headers.
#[derive(Debug, Clone, Copy)]
pub struct RateState {
    /// Requests per minute allowed.
    pub limit: u32,
    /// Left in the current window.
    pub remaining: u32,
    /// Seconds until the window is full again.
    pub reset: u64,
    /// Set when refused: seconds to wait.
    pub retry_after: Option<u64>,
}

/// Per-credential request limits and recent usage.
#[derive(Clone)]
pub struct RateLimits {
    per_minute: u32,
    limiter: Arc<Limiter>,
    usage: Arc<Mutex<HashMap<String, (i64, u32)>>>,
}

impl RateLimits {
    /// `per_minute` requests per credential, with bursts up to the same number.
    pub fn new(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        let limiter = RateLimiter::keyed(Quota::per_minute(n))
            .with_middleware::<StateInformationMiddleware>();
        Self {
            per_minute: n.get(),
            limiter: Arc::new(limiter),
            usage: Arc::default(),
        }
    }

    /// Counts a request by `key` (a credential or token id) and says whether it may proceed.
    pub fn check(&self, key: &str, now: i64) -> RateState {
        self.count(key, now);
        let per_request = 60.0 / f64::from(self.per_minute);
        match self.limiter.check_key(&key.to_owned()) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                let used = self.per_minute.saturating_sub(remaining);
                RateState {
                    limit: self.per_minute,
                    remaining,
                    reset: (f64::from(used) * per_request).ceil() as u64,
                    retry_after: None,
                }
            }
            Err(not_until) => {
                crate::runtime::metrics::throttled("rate_limit");
                let wait = not_until
                    .wait_time_from(DefaultClock::default().now())
                    .as_secs()
                    .max(1);
                RateState {
                    limit: self.per_minute,
                    remaining: 0,
                    reset: wait,
                    retry_after: Some(wait),
                }
            }
        }
    }

    fn count(&self, key: &str, now: i64) {
        let Ok(mut usage) = self.usage.lock() else {
            return;
        };
        if usage.len() >= MAX_KEYS {
            usage.retain(|_, (minute, _)| *minute >= now / 60 - 1);
        }
        let entry = usage.entry(key.to_owned()).or_insert((now / 60, 0));
        if entry.0 != now / 60 {
            *entry = (now / 60, 0);
        }
        entry.1 += 1;
    }

    /// Requests by `key` in the current minute, and the limit.
    pub fn recent(&self, key: &str, now: i64) -> (u32, u32) {
        let count = self
            .usage
            .lock()
            .ok()
            .and_then(|u| u.get(key).filter(|(m, _)| *m == now / 60).map(|(_, c)| *c))
            .unwrap_or(0);
        (count, self.per_minute)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn failures_block_until_the_window_passes() {
        let t = FailureThrottle::new(3, 300);
        for i in 0..3 {
            assert!(t.check("k", 1000 + i).await.is_ok());
            t.fail("k", 1000 + i).await;
        }
        assert_eq!(t.check("k", 1003).await, Err(297));
        assert!(t.check("other", 1003).await.is_ok(), "keys are independent");
        assert!(
            t.check("k", 1300).await.is_ok(),
            "the first failure left the window"
        );
    }

    #[tokio::test]
    async fn sign_in_failures_count_per_account_and_per_address() {
        let ip = Some("203.0.113.9".parse().unwrap());
        let elsewhere = Some("198.51.100.4".parse().unwrap());
        let t = SignInThrottle::new(FailureThrottle::new(2, 300), 5);
        t.fail(ip, "a@example.com", 1000).await;
        t.fail(ip, "A@example.com", 1000).await;
        assert_eq!(
            t.check(ip, "a@example.com", 1001).await,
            Err(299),
            "per account"
        );
        assert!(t.check(ip, "b@example.com", 1001).await.is_ok());
        for who in ["b", "c", "d"] {
            t.fail(ip, &format!("{who}@example.com"), 1002).await;
        }
        assert_eq!(
            t.check(ip, "new@example.com", 1003).await,
            Err(297),
            "five failures across accounts use up the address's budget"
        );
        assert!(t.check(elsewhere, "a@example.com", 1003).await.is_ok());
        assert!(
            t.check(ip, "new@example.com", 1300).await.is_ok(),
            "the window passes"
        );
    }

    #[tokio::test]
    async fn an_ipv6_subscriber_has_one_budget_for_its_whole_block() {
        let t = SignInThrottle::new(FailureThrottle::new(10, 300), 2);
        t.fail(
            Some("2001:db8:1:2::1".parse().unwrap()),
            "a@example.com",
            1000,
        )
        .await;
        t.fail(
            Some("2001:db8:1:2::ffff".parse().unwrap()),
            "b@example.com",
            1000,
        )
        .await;
        let same_block = Some("2001:db8:1:2:abcd::9".parse().unwrap());
        assert!(t.check(same_block, "c@example.com", 1001).await.is_err());
        let next_block = Some("2001:db8:1:3::1".parse().unwrap());
        assert!(t.check(next_block, "c@example.com", 1001).await.is_ok());
        let mapped = Some("::ffff:203.0.113.9".parse().unwrap());
        t.fail(mapped, "a@example.com", 1000).await;
        t.fail(Some("203.0.113.9".parse().unwrap()), "b@example.com", 1000)
            .await;
        assert!(
            t.check(Some("203.0.113.9".parse().unwrap()), "c@example.com", 1001)
                .await
                .is_err(),
            "an IPv4 address counts the same however it arrives"
        );
    }

    #[test]
    fn the_rate_limit_refuses_past_the_quota() {
        let r = RateLimits::new(3);
        for _ in 0..3 {
            assert!(r.check("key", 60).retry_after.is_none());
        }
        let refused = r.check("key", 60);
        assert!(refused.retry_after.is_some());
        assert_eq!(refused.remaining, 0);
        assert_eq!(r.recent("key", 60), (4, 3));
        assert!(r.check("other", 60).retry_after.is_none());
    }
}
