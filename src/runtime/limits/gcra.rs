//! The arithmetic of a per-minute rate limit shared by several servers, as pure functions: GCRA
//! (the generic cell rate algorithm of ITU-T I.371, which the in-process limiter, governor, also
//! runs), whose whole state is one number per bucket, its theoretical arrival time (TAT). A
//! server takes a lease of a few permits at a time by moving the TAT forward; `storage::limits`
//! runs the same formula in one SQL statement, and these functions are its specification.
//!
//! The bound: over any span of `t` seconds a bucket admits at most `limit + limit × t / 60`
//! requests (a burst of `limit`, then `limit` a minute), exactly as on one server, plus whatever
//! permits servers hold unused from earlier leases: at most `lease − 1` per server. Unlike a
//! fixed-window counter, nothing doubles at a window boundary.

/// Microseconds in a minute.
const MINUTE_US: i64 = 60_000_000;

/// The share of the limit a server leases at a time (1/50: 2% of the limit per server).
const LEASE_DIVISOR: u32 = 50;

/// A limit of `limit` requests per minute, in bursts up to `limit`, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gcra {
    limit: u32,
    interval_us: i64,
}

impl Gcra {
    /// `limit` requests per minute (at least one).
    pub fn per_minute(limit: u32) -> Self {
        let limit = limit.max(1);
        Self {
            limit,
            interval_us: (MINUTE_US / i64::from(limit)).max(1),
        }
    }

    /// Requests per minute.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Microseconds between two permits at the steady rate (the emission interval).
    pub fn interval_us(&self) -> i64 {
        self.interval_us
    }

    /// How far the TAT may run ahead of now: a full burst's worth of intervals.
    pub fn horizon_us(&self) -> i64 {
        self.interval_us.saturating_mul(i64::from(self.limit))
    }

    /// Permits a server takes from the shared bucket at a time: 1/50 of the limit, at least one.
    pub fn lease_size(&self) -> u32 {
        (self.limit / LEASE_DIVISOR).max(1)
    }

    /// Up to `want` permits from a bucket whose TAT is `tat`, at `now`: how many are granted
    /// (fewer when less remains, none when the bucket is empty) and the bucket's new TAT. A TAT
    /// in the past is a full bucket. A TAT beyond the horizon (another server's clock ahead of
    /// this one) grants nothing.
    pub fn lease(&self, tat: i64, now: i64, want: u32) -> (u32, i64) {
        let base = tat.max(now);
        let room = (now + self.horizon_us() - base) / self.interval_us;
        let granted = room.clamp(0, i64::from(want));
        (
            u32::try_from(granted).unwrap_or(0),
            base + granted * self.interval_us,
        )
    }

    /// Permits left in a bucket whose TAT is `tat`, at `now`.
    pub fn remaining(&self, tat: i64, now: i64) -> u32 {
        let room = (now + self.horizon_us() - tat.max(now)) / self.interval_us;
        u32::try_from(room.clamp(0, i64::from(self.limit))).unwrap_or(0)
    }

    /// Microseconds until a bucket whose TAT is `tat` has a permit again (0: it has one now).
    pub fn wait_us(&self, tat: i64, now: i64) -> i64 {
        (tat + self.interval_us - self.horizon_us() - now).max(0)
    }

    /// Whole seconds until a bucket whose TAT is `tat` is full again.
    pub fn reset_secs(&self, tat: i64, now: i64) -> u64 {
        u64::try_from(tat - now).map_or(0, |us| us.div_ceil(1_000_000))
    }
}

/// Whole seconds, rounded up, in a span of microseconds, at least one: a `Retry-After`.
pub fn retry_secs(wait_us: i64) -> u64 {
    u64::try_from(wait_us.max(1)).map_or(1, |us| us.div_ceil(1_000_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000;
    const T0: i64 = 1_764_547_200 * S;

    #[test]
    fn an_unknown_bucket_is_full_and_leases_what_is_asked() {
        let g = Gcra::per_minute(300);
        assert_eq!(g.interval_us(), 200_000);
        assert_eq!(g.lease_size(), 6);
        assert_eq!(g.remaining(0, T0), 300);
        let (granted, tat) = g.lease(0, T0, 6);
        assert_eq!(granted, 6);
        assert_eq!(tat, T0 + 6 * 200_000);
        assert_eq!(g.remaining(tat, T0), 294);
    }

    #[test]
    fn a_lease_is_cut_to_what_remains_and_an_empty_bucket_grants_nothing() {
        let g = Gcra::per_minute(300);
        let (granted, tat) = g.lease(0, T0, 298);
        assert_eq!(granted, 298);
        let (granted, tat) = g.lease(tat, T0, 6);
        assert_eq!(granted, 2, "only two of the burst were left");
        assert_eq!(tat, T0 + 60 * S);
        assert_eq!(g.remaining(tat, T0), 0);
        let (granted, same) = g.lease(tat, T0, 6);
        assert_eq!(
            (granted, same),
            (0, tat),
            "an empty bucket is left as it was"
        );
        assert_eq!(
            g.wait_us(tat, T0),
            200_000,
            "one interval until the next permit"
        );
        let (granted, _) = g.lease(tat, T0 + 200_000, 6);
        assert_eq!(granted, 1, "one permit refills per interval");
        assert_eq!(g.reset_secs(tat, T0), 60);
    }

    #[test]
    fn small_and_odd_limits_round_safely() {
        let g = Gcra::per_minute(0);
        assert_eq!((g.limit(), g.lease_size()), (1, 1));
        let g = Gcra::per_minute(7);
        assert_eq!(g.interval_us(), 8_571_428);
        let (granted, tat) = g.lease(0, T0, 100);
        assert_eq!(granted, 7, "never more than the burst");
        assert_eq!(g.lease(tat, T0, 1).0, 0);
        assert_eq!(retry_secs(g.wait_us(tat, T0)), 9);
        assert_eq!(
            retry_secs(0),
            1,
            "a refusal always asks for at least a second"
        );
    }

    #[test]
    fn a_tat_beyond_the_horizon_from_a_clock_ahead_grants_nothing() {
        let g = Gcra::per_minute(60);
        let ahead = T0 + 90 * S;
        assert_eq!(g.lease(ahead, T0, 5), (0, ahead));
        assert_eq!(g.remaining(ahead, T0), 0);
    }

    /// Three servers, each leasing from one shared TAT and serving from its own lease, take
    /// requests in an arbitrary interleaving within two seconds: together they admit the limit
    /// (plus the two seconds' refill) less at most the permits left unused in their leases.
    #[test]
    fn three_servers_sharing_a_bucket_admit_the_limit_give_or_take_their_leases() {
        let g = Gcra::per_minute(300);
        let mut tat = 0;
        let mut held = [0u32; 3];
        let mut admitted = 0u32;
        let mut seed = 0x2545_f491_u64;
        for i in 0..900i64 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let node = usize::try_from(seed % 3).unwrap();
            let now = T0 + i * 2 * S / 900;
            if held[node] == 0 {
                let (granted, next) = g.lease(tat, now, g.lease_size());
                tat = next;
                held[node] = granted;
            }
            if held[node] > 0 {
                held[node] -= 1;
                admitted += 1;
            }
        }
        let refill = 2 * 300 / 60;
        let unused: u32 = held.iter().sum();
        assert!(admitted <= 300 + refill, "admitted {admitted}");
        assert!(
            (300 + refill - 1..=300 + refill).contains(&(admitted + unused)),
            "every permit leased once: the burst and the refill of the last lease's time"
        );
        assert!(unused <= 3 * (g.lease_size() - 1));
    }
}
