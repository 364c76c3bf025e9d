//! The server's clock. Production reads the system time; tests move it forward to check expiries
//! without sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Unix-seconds clock with an adjustable offset (shared by clones).
#[derive(Clone, Default, Debug)]
pub struct Clock {
    offset: Arc<AtomicI64>,
}

impl Clock {
    /// Current time, Unix seconds.
    pub fn now(&self) -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp() + self.offset.load(Ordering::Relaxed)
    }

    /// Current time, Unix microseconds (for rates finer than a second); the same clock as `now`.
    pub fn now_micros(&self) -> i64 {
        let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        i64::try_from(nanos / 1000)
            .unwrap_or(i64::MAX)
            .saturating_add(
                self.offset
                    .load(Ordering::Relaxed)
                    .saturating_mul(1_000_000),
            )
    }

    /// Moves the clock forward (tests).
    pub fn advance(&self, secs: i64) {
        self.offset.fetch_add(secs, Ordering::Relaxed);
    }
}
