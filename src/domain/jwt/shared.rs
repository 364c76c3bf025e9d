//! The key set every worker shares, replaced whole when keys are reloaded. A new database's RSA
//! key is made in the background while the server already runs (a prime search costs a few
//! hundred milliseconds), so RS256 signing may have to wait for it: `ready_for` does.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, watch};

use super::{KeySet, SigningAlg};
use crate::error::{AppError, Result};

/// How long signing waits for a key of its algorithm to appear before giving up.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// The key set shared by all workers, replaceable when keys are rotated.
#[derive(Clone)]
pub struct Keys {
    set: Arc<watch::Sender<Arc<KeySet>>>,
    /// When a token named an unknown key last made us reload (Unix seconds): forged key ids
    /// must not turn every request into a database read.
    last_unknown_reload: Arc<AtomicI64>,
    /// Raised when another node or the command line says keys were added.
    changed: Arc<Notify>,
}

impl Keys {
    /// Wraps a parsed set.
    pub fn new(set: KeySet) -> Self {
        Self {
            set: Arc::new(watch::Sender::new(Arc::new(set))),
            last_unknown_reload: Arc::new(AtomicI64::new(0)),
            changed: Arc::new(Notify::new()),
        }
    }

    /// The current set (a cheap clone of an `Arc`).
    pub fn current(&self) -> Arc<KeySet> {
        self.set.borrow().clone()
    }

    /// Installs a newly loaded set, waking whoever waits for a key in it.
    pub fn replace(&self, set: KeySet) {
        self.set.send_replace(Arc::new(set));
    }

    /// The current set once it can sign with `alg`: at once when it already can, otherwise when
    /// a reload brings such a key (the first RSA key, made in the background on a new
    /// database). Gives up after 30 seconds.
    pub async fn ready_for(&self, alg: SigningAlg) -> Result<Arc<KeySet>> {
        self.ready_within(alg, READY_TIMEOUT).await
    }

    async fn ready_within(&self, alg: SigningAlg, timeout: Duration) -> Result<Arc<KeySet>> {
        let current = self.current();
        if current.can_sign(alg) {
            return Ok(current);
        }
        let mut changes = self.set.subscribe();
        let waited = tokio::time::timeout(timeout, changes.wait_for(|set| set.can_sign(alg))).await;
        match waited {
            Ok(Ok(set)) => Ok(set.clone()),
            _ => Err(AppError::internal(anyhow::anyhow!(
                "no {alg} signing key is available yet"
            ))),
        }
    }

    /// Says keys were added elsewhere (another node, `portcullis keys rotate`): the reloader
    /// reloads them. Kept until the reloader next waits, so none is lost while it is busy.
    pub fn changed_elsewhere(&self) {
        self.changed.notify_one();
    }

    /// Waits until `changed_elsewhere` is called.
    pub async fn wait_changed_elsewhere(&self) {
        self.changed.notified().await;
    }

    /// Whether a token naming an unknown key may trigger a reload at `now` (Unix seconds): at
    /// most once a second.
    pub fn may_reload_for_unknown_key(&self, now: i64) -> bool {
        let last = self.last_unknown_reload.load(Ordering::Relaxed);
        last != now
            && self
                .last_unknown_reload
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::super::generate_key;
    use super::*;

    fn set(algs: &[SigningAlg]) -> KeySet {
        let keys = algs.iter().map(|a| generate_key(*a, 1).unwrap()).collect();
        KeySet::new(keys, "http://issuer", 0).unwrap()
    }

    #[test]
    fn an_unknown_key_triggers_at_most_one_reload_a_second() {
        let keys = Keys::new(set(&[]));
        assert!(keys.may_reload_for_unknown_key(100));
        assert!(!keys.may_reload_for_unknown_key(100));
        assert!(keys.may_reload_for_unknown_key(101));
    }

    #[tokio::test]
    async fn rs256_signing_waits_for_the_rsa_key_to_arrive() {
        let keys = Keys::new(set(&[SigningAlg::EdDsa]));
        assert!(keys.ready_for(SigningAlg::EdDsa).await.is_ok(), "at once");
        let waiting = tokio::spawn({
            let keys = keys.clone();
            async move { keys.ready_for(SigningAlg::Rs256).await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        keys.replace(set(&[SigningAlg::EdDsa, SigningAlg::Rs256]));
        let ready = waiting.await.unwrap().unwrap();
        assert!(ready.can_sign(SigningAlg::Rs256));
    }

    #[tokio::test]
    async fn rs256_signing_gives_up_when_no_rsa_key_arrives() {
        let keys = Keys::new(set(&[SigningAlg::EdDsa]));
        let short = Duration::from_millis(20);
        assert!(keys.ready_within(SigningAlg::Rs256, short).await.is_err());
    }
}
