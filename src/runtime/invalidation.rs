//! Cache coherence between nodes sharing one PostgreSQL database. Every invalidation a node
//! makes (`Caches::invalidate`) is also announced with `pg_notify('portcullis_invalidate',
//! <caches>)`, sent once the change has committed; every node listens on a connection of its
//! own and drops the named caches when it hears one, so a change made on any node holds on
//! every node within milliseconds, whatever `--cache-ttl-ms` is. The same connection hears
//! `portcullis_keys`, which wakes the key reloader (`runtime::key_reloader`).
//!
//! When the listening connection is down, a node falls back to the cache lifetime: entries read
//! before a change on another node live at most `--cache-ttl-ms`. It warns once per outage,
//! reconnects with backoff, says when listening is restored, and then drops every cache (what
//! it missed is unknown). `/healthz` says which state it is in, without turning it unready.
//! On SQLite (one node) nothing here runs.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::config::DatabaseUrl;
use crate::domain::jwt::Keys;
use crate::runtime::cache::Caches;
use crate::storage::Db;
use crate::storage::notify::{self, Heard, INVALIDATE_CHANNEL, Listener};

/// The first wait before reconnecting, doubled after each failed attempt up to `MAX_BACKOFF`.
const MIN_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Attempts to send one notification before giving up on it (the other nodes then see the
/// change once their entries expire).
const SEND_ATTEMPTS: u32 = 5;

/// Which caches a change made stale: a small set, and the payload of a notification (the
/// caches' names, comma-separated).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stale(u8);

impl Stale {
    /// Clients by id.
    pub const CLIENTS: Stale = Stale(1);
    /// Credentials, by secret hash and by id.
    pub const CREDENTIALS: Stale = Stale(1 << 1);
    /// Tenant roles.
    pub const MEMBERS: Stale = Stale(1 << 2);
    /// Users by id.
    pub const USERS: Stale = Stale(1 << 3);
    /// Revocation verdicts.
    pub const REVOKED: Stale = Stale(1 << 4);
    /// Every cache that changes can make stale.
    pub const ALL: Stale = Stale((1 << 5) - 1);

    const NAMES: [(Stale, &'static str); 5] = [
        (Self::CLIENTS, "clients"),
        (Self::CREDENTIALS, "credentials"),
        (Self::MEMBERS, "members"),
        (Self::USERS, "users"),
        (Self::REVOKED, "revoked"),
    ];

    /// Whether every cache of `other` is in this set.
    pub fn contains(self, other: Stale) -> bool {
        self.0 & other.0 == other.0
    }

    /// The notification payload naming these caches.
    pub fn payload(self) -> String {
        let names: Vec<&str> = Self::NAMES
            .iter()
            .filter(|(s, _)| self.contains(*s))
            .map(|(_, name)| *name)
            .collect();
        names.join(",")
    }

    /// The caches a payload names. A payload naming nothing, or a cache this version does not
    /// know (a newer node's), stands for every cache: dropping too much costs a few reads,
    /// dropping too little would serve a revoked credential.
    pub fn parse(payload: &str) -> Stale {
        let mut stale = Stale::default();
        for name in payload.split(',').map(str::trim) {
            match Self::NAMES.iter().find(|(_, n)| *n == name) {
                Some((s, _)) => stale = stale | *s,
                None => return Self::ALL,
            }
        }
        stale
    }
}

impl std::ops::BitOr for Stale {
    type Output = Stale;

    fn bitor(self, other: Stale) -> Stale {
        Stale(self.0 | other.0)
    }
}

/// What the sender is given: invalidations to announce, and requests to say when everything
/// queued before them is sent.
enum Queued {
    Stale(Stale),
    Flush(oneshot::Sender<()>),
}

/// A node's tie to the others (PostgreSQL only): the outbox of its own invalidations, and
/// whether it hears theirs.
pub struct Link {
    outbox: mpsc::UnboundedSender<Queued>,
    listening: AtomicBool,
}

impl Link {
    /// Queues an invalidation for the other nodes (sent in the background, in order).
    pub(crate) fn announce(&self, stale: Stale) {
        // The sender lives as long as the process; a send can only fail during shutdown.
        let _ = self.outbox.send(Queued::Stale(stale));
    }

    /// Returns once every invalidation queued so far has been sent (or given up on): a command
    /// that changed something must not exit before the servers are told.
    pub async fn flush(&self) {
        let (done, sent) = oneshot::channel();
        if self.outbox.send(Queued::Flush(done)).is_ok() {
            let _ = sent.await;
        }
    }

    /// Whether the listening connection is up, so changes on other nodes hold here at once.
    pub fn listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }

    /// What `/healthz` says of it.
    pub fn describe(&self) -> &'static str {
        if self.listening() {
            "listening"
        } else {
            "degraded (ttl fallback)"
        }
    }
}

/// Announces the invalidations made through `caches` to the servers on PostgreSQL, without
/// listening to theirs: what a command (`portcullis client set`, …) needs. False on SQLite, or
/// when `caches` is tied already.
pub fn tie(db: &Db, caches: &Caches) -> bool {
    if !notify::carries_notifications(db) {
        return false;
    }
    let (outbox, queued) = mpsc::unbounded_channel();
    let link = Link {
        outbox,
        listening: AtomicBool::new(false),
    };
    if !caches.tie(link) {
        return false;
    }
    tokio::spawn(send(db.clone(), queued));
    true
}

/// Ties `caches` to the other nodes on PostgreSQL: starts the sender of this node's
/// invalidations and the listener (whose first connection is awaited, so a node that starts
/// answering already listens). `node` names the listener's connection in `pg_stat_activity`.
/// Does nothing on SQLite.
pub async fn start(url: &DatabaseUrl, db: &Db, caches: &Caches, keys: &Keys, node: SocketAddr) {
    if !tie(db, caches) {
        return;
    }
    let name = format!("portcullis listener {node}");
    let first = Listener::connect(url, &name).await;
    let (url, caches, keys) = (url.clone(), caches.clone(), keys.clone());
    tokio::spawn(listen(url, name, caches, keys, first));
}

/// Sends queued invalidations, those queued meanwhile merged into one notification.
async fn send(db: Db, mut queued: mpsc::UnboundedReceiver<Queued>) {
    while let Some(first) = queued.recv().await {
        let (mut stale, mut waiting) = (Stale::default(), Vec::new());
        let mut take = |q| match q {
            Queued::Stale(s) => stale = stale | s,
            Queued::Flush(done) => waiting.push(done),
        };
        take(first);
        while let Ok(more) = queued.try_recv() {
            take(more);
        }
        if stale != Stale::default() {
            send_one(&db, &stale.payload()).await;
        }
        for done in waiting {
            let _ = done.send(());
        }
    }
}

/// One notification, retried with backoff a few times.
async fn send_one(db: &Db, payload: &str) {
    let mut wait = MIN_BACKOFF;
    for attempt in 1..=SEND_ATTEMPTS {
        match notify::notify(db, INVALIDATE_CHANNEL, payload).await {
            Ok(()) => return,
            Err(e) if attempt == SEND_ATTEMPTS => {
                tracing::warn!(error = %e, caches = %payload, "could not tell the other nodes of a change: they see it once their cache entries expire");
            }
            Err(_) => {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Listens for as long as the server runs, reconnecting whenever the connection is lost.
async fn listen(
    url: DatabaseUrl,
    name: String,
    caches: Caches,
    keys: Keys,
    first: crate::error::Result<Listener>,
) {
    let Some(link) = caches.link() else { return };
    let mut attempt = Some(first);
    let mut wait = MIN_BACKOFF;
    let mut in_outage = false;
    loop {
        let connected = match attempt.take() {
            Some(first) => first,
            None => Listener::connect(&url, &name).await,
        };
        match connected {
            Ok(mut listener) => {
                // Whatever was sent while nobody listened is lost: drop everything once.
                caches.forget(Stale::ALL);
                keys.changed_elsewhere();
                link.listening.store(true, Ordering::Release);
                if in_outage {
                    tracing::info!("listening for other nodes' changes again: caches coherent");
                }
                wait = MIN_BACKOFF;
                let lost = loop {
                    match listener.next().await {
                        Ok(Heard::Invalidate(payload)) => caches.forget(Stale::parse(&payload)),
                        Ok(Heard::Keys) => keys.changed_elsewhere(),
                        Err(e) => break e,
                    }
                };
                link.listening.store(false, Ordering::Release);
                tracing::warn!(error = %lost, "stopped hearing other nodes' changes: caches fall back to --cache-ttl-ms until the listener reconnects");
                in_outage = true;
            }
            Err(e) => {
                if !in_outage {
                    tracing::warn!(error = %e, "cannot listen for other nodes' changes: caches fall back to --cache-ttl-ms until the listener connects");
                    in_outage = true;
                }
            }
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(MAX_BACKOFF);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_name_the_caches_and_read_back_as_the_same_set() {
        assert_eq!(Stale::REVOKED.payload(), "revoked");
        let two = Stale::CREDENTIALS | Stale::REVOKED;
        assert_eq!(two.payload(), "credentials,revoked");
        assert_eq!(Stale::parse("credentials,revoked"), two);
        assert_eq!(
            Stale::parse(" users , members"),
            Stale::USERS | Stale::MEMBERS
        );
        for (one, _) in Stale::NAMES {
            assert_eq!(Stale::parse(&one.payload()), one);
        }
        assert_eq!(
            Stale::ALL.payload(),
            "clients,credentials,members,users,revoked"
        );
        assert_eq!(Stale::parse(&Stale::ALL.payload()), Stale::ALL);
    }

    #[test]
    fn an_empty_or_unknown_payload_drops_every_cache() {
        for payload in [
            "",
            ",",
            "sessions",
            "revoked,sessions",
            "REVOKED",
            "revoked;users",
        ] {
            assert_eq!(Stale::parse(payload), Stale::ALL, "{payload:?}");
        }
    }

    #[test]
    fn a_set_contains_its_members_only() {
        let two = Stale::CLIENTS | Stale::USERS;
        assert!(two.contains(Stale::CLIENTS) && two.contains(Stale::USERS));
        assert!(!two.contains(Stale::REVOKED));
        assert!(!two.contains(Stale::ALL));
        assert!(Stale::ALL.contains(two));
    }
}
