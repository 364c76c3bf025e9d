//! Keeps a server's signing keys current without a restart. It reloads them when keys are
//! added elsewhere (`portcullis keys rotate`, another node): told at once on PostgreSQL
//! (`runtime::invalidation` hears `portcullis_keys`), and otherwise found by a cheap check every
//! few seconds (the number and newest creation time of the stored keys). It builds the key set
//! again when a waiting key's activation time comes, so every node switches to a rotated key
//! within a second of the same moment, and signing itself never reads a clock.

use std::time::Duration;

use crate::clock::Clock;
use crate::domain::tokens::{self, TokenService};
use crate::storage::{self, Db};

/// How often stored keys are checked when no notification says they changed: well under the
/// default activation delay of `portcullis keys rotate` (5 s), so a node that cannot hear
/// notifications (SQLite, or its listener down) still loads a rotated key before it signs.
const POLL: Duration = Duration::from_secs(3);

/// Runs for as long as the server does.
pub async fn run(db: Db, tokens: TokenService) {
    let keys = tokens.keys().clone();
    let mut seen = storage::keys::fingerprint(&db).await.ok();
    let mut failed = false;
    loop {
        let activation = keys.current().next_activation();
        let wait = match activation {
            // A failed reload is retried at the next check, not at once.
            Some(at) if !failed => until(at).min(POLL),
            _ => POLL,
        };
        let told = tokio::select! {
            () = keys.wait_changed_elsewhere() => true,
            () = tokio::time::sleep(wait) => false,
        };
        let due = activation.is_some_and(|at| now() >= at);
        let stored = match storage::keys::fingerprint(&db).await {
            Ok(stored) => Some(stored),
            Err(e) => {
                tracing::warn!(error = %e, "could not check the signing keys");
                None
            }
        };
        if !(told || due || (stored.is_some() && stored != seen)) {
            continue;
        }
        let reloaded = tokens::reload_keys(&db, &keys, tokens.issuer(), tokens.access_ttl()).await;
        failed = reloaded.is_err();
        match reloaded {
            Ok(()) => seen = stored,
            Err(e) => {
                seen = None;
                tracing::warn!(error = %e, "could not reload signing keys");
            }
        }
    }
}

/// Key times are Unix seconds by the system clock, as keys are dated.
fn now() -> i64 {
    Clock::default().now()
}

/// How long until `at`. Whole seconds from the current whole second: never wakes before `at`,
/// at most a second after it.
fn until(at: i64) -> Duration {
    Duration::from_secs(u64::try_from(at - now()).unwrap_or(0))
}
