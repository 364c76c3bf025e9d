//! Bounded in-memory caches for the lookups on every authenticated request: clients by id,
//! credentials by secret hash, users by id, and revocation verdicts. A database round trip costs
//! more than everything else such a request does, and these rows change rarely.
//!
//! Staleness is bounded twice over. A change made through this server invalidates the affected
//! cache at once (a generation bump: O(1), no scan), and on PostgreSQL tells every other server
//! to do the same (`runtime::invalidation`). A change another server could not announce, or
//! made while this one was not listening, is seen once entries expire, `--cache-ttl-ms` after
//! they were read (1 s by default); 0 turns caching off. Misses are never cached, so a new
//! credential works on every server at once.

use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use quick_cache::Equivalent;

use super::invalidation::{Link, Stale};

use crate::domain::client::Client;
use crate::domain::credentials::Credential;
use crate::domain::jwt::AccessClaims;
use crate::domain::user::User;

/// Entries per cache: enough for every hot key of a large deployment, a few MB at most.
const CAPACITY: usize = 10_000;

struct Entry<V> {
    value: V,
    generation: u64,
    read_at: Instant,
}

impl<V: Clone> Clone for Entry<V> {
    fn clone(&self) -> Self {
        Self {
            value: self.value.clone(),
            generation: self.generation,
            read_at: self.read_at,
        }
    }
}

/// One cache: entries expire after the TTL or when the cache is invalidated.
pub struct TtlCache<K, V> {
    /// The cache's name in the metrics.
    name: &'static str,
    entries: quick_cache::sync::Cache<K, Entry<V>>,
    generation: AtomicU64,
    ttl: Duration,
}

/// Taken before reading the database, so a value read before an invalidation is never stored
/// as if it were read after it.
#[derive(Clone, Copy)]
pub struct Ticket(u64);

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    fn new(name: &'static str, ttl: Duration) -> Self {
        Self {
            name,
            entries: quick_cache::sync::Cache::new(CAPACITY),
            generation: AtomicU64::new(0),
            ttl,
        }
    }

    /// A fresh cached value.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let fresh = if self.ttl.is_zero() {
            None
        } else {
            self.entries.get(key).and_then(|entry| {
                (entry.generation == self.generation.load(Ordering::Acquire)
                    && entry.read_at.elapsed() < self.ttl)
                    .then_some(entry.value)
            })
        };
        crate::runtime::metrics::cache_lookup(self.name, fresh.is_some());
        fresh
    }

    /// Call before reading what `put` will store.
    pub fn ticket(&self) -> Ticket {
        Ticket(self.generation.load(Ordering::Acquire))
    }

    /// Stores a value read from the database after `ticket` was taken.
    pub fn put(&self, ticket: Ticket, key: K, value: V) {
        if self.ttl.is_zero() || ticket.0 != self.generation.load(Ordering::Acquire) {
            return;
        }
        self.entries.insert(
            key,
            Entry {
                value,
                generation: ticket.0,
                read_at: Instant::now(),
            },
        );
    }

    /// The cached value, or else what `load` reads from the database, stored when found.
    pub async fn get_or_load<Q, E>(
        &self,
        key: &Q,
        load: impl Future<Output = Result<Option<V>, E>>,
    ) -> Result<Option<V>, E>
    where
        Q: Hash + Equivalent<K> + ToOwned<Owned = K> + ?Sized,
    {
        if let Some(v) = self.get(key) {
            return Ok(Some(v));
        }
        let ticket = self.ticket();
        let found = load.await?;
        if let Some(v) = &found {
            self.put(ticket, key.to_owned(), v.clone());
        }
        Ok(found)
    }

    /// Forgets every entry.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

/// The caches one server shares between its workers; cheap to clone.
#[derive(Clone)]
pub struct Caches(Arc<Inner>);

struct Inner {
    clients: TtlCache<String, Client>,
    credentials: TtlCache<String, Credential>,
    credential_ids: TtlCache<String, Credential>,
    members: TtlCache<String, crate::domain::policy::Role>,
    users: TtlCache<String, User>,
    revoked: TtlCache<Revocable, bool>,
    verified: TtlCache<[u8; 32], AccessClaims>,
    /// The tie to other servers, on PostgreSQL.
    link: std::sync::OnceLock<Link>,
}

/// What a token can be revoked through.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Revocable {
    /// A token family (authorization-code grants).
    Family(String),
    /// One access token's `jti`.
    Jti(String),
    /// The credential a token was exchanged from.
    Credential(String),
    /// The browser session a session token belongs to (revoked: the session has ended).
    Session(String),
}

impl Caches {
    /// Caches whose entries live `ttl` (zero: no caching).
    pub fn new(ttl: Duration) -> Self {
        Self(Arc::new(Inner {
            clients: TtlCache::new("clients", ttl),
            credentials: TtlCache::new("credentials", ttl),
            credential_ids: TtlCache::new("credential_ids", ttl),
            members: TtlCache::new("members", ttl),
            users: TtlCache::new("users", ttl),
            revoked: TtlCache::new("revoked", ttl),
            verified: TtlCache::new("verified_tokens", ttl),
            link: std::sync::OnceLock::new(),
        }))
    }

    /// Clients by id; invalidate on any change to a client.
    pub fn clients(&self) -> &TtlCache<String, Client> {
        &self.0.clients
    }

    /// Credentials by secret hash; invalidate on revocation and when last-use times are written.
    pub fn credentials(&self) -> &TtlCache<String, Credential> {
        &self.0.credentials
    }

    /// Credentials by id (behind exchanged tokens); invalidate with `credentials`.
    pub fn credential_ids(&self) -> &TtlCache<String, Credential> {
        &self.0.credential_ids
    }

    /// Live tenant roles by `tenant|user`; invalidate on any membership change.
    pub fn members(&self) -> &TtlCache<String, crate::domain::policy::Role> {
        &self.0.members
    }

    /// Users by id; invalidate on any change to a user.
    pub fn users(&self) -> &TtlCache<String, User> {
        &self.0.users
    }

    /// Revocation verdicts; invalidate on any revocation.
    pub fn revoked(&self) -> &TtlCache<Revocable, bool> {
        &self.0.revoked
    }

    /// Claims of access tokens whose signature checked out, by the token's SHA-256: a
    /// signature stays valid, so these never need invalidating (expiry and revocation are
    /// checked on every use). A resource server presents the same token many times.
    pub fn verified(&self) -> &TtlCache<[u8; 32], AccessClaims> {
        &self.0.verified
    }
}

/// Invalidation: the one way a change drops what it made stale.
impl Caches {
    /// Drops what a change made stale, here at once and, on PostgreSQL, on every other server
    /// as soon as it hears of it. Call once the change has committed, so no server reads the
    /// old row again after dropping it.
    pub fn invalidate(&self, stale: Stale) {
        self.forget(stale);
        if let Some(link) = self.0.link.get() {
            link.announce(stale);
        }
    }

    /// Drops what `stale` names on this server only.
    pub fn forget(&self, stale: Stale) {
        if stale.contains(Stale::CLIENTS) {
            self.clients().invalidate();
        }
        if stale.contains(Stale::CREDENTIALS) {
            self.credentials().invalidate();
            self.credential_ids().invalidate();
        }
        if stale.contains(Stale::MEMBERS) {
            self.members().invalidate();
        }
        if stale.contains(Stale::USERS) {
            self.users().invalidate();
        }
        if stale.contains(Stale::REVOKED) {
            self.revoked().invalidate();
        }
    }

    /// The tie to other servers, once made (PostgreSQL).
    pub fn link(&self) -> Option<&Link> {
        self.0.link.get()
    }

    /// Makes the tie; false when there is one already.
    pub(crate) fn tie(&self, link: Link) -> bool {
        self.0.link.set(link).is_ok()
    }
}

impl Default for Caches {
    fn default() -> Self {
        Self::new(Duration::from_secs(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_invalidation_drops_them() {
        let cache: TtlCache<String, u32> = TtlCache::new("test", Duration::from_millis(50));
        let t = cache.ticket();
        cache.put(t, "a".into(), 1);
        assert_eq!(cache.get("a"), Some(1));
        cache.invalidate();
        assert_eq!(cache.get("a"), None);
        cache.put(cache.ticket(), "a".into(), 2);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get("a"), None);
    }

    #[test]
    fn a_read_that_raced_an_invalidation_is_not_stored() {
        let cache: TtlCache<String, u32> = TtlCache::new("test", Duration::from_secs(60));
        let before = cache.ticket();
        cache.invalidate();
        cache.put(before, "a".into(), 1);
        assert_eq!(cache.get("a"), None);
    }

    #[test]
    fn a_zero_ttl_caches_nothing() {
        let cache: TtlCache<String, u32> = TtlCache::new("test", Duration::ZERO);
        cache.put(cache.ticket(), "a".into(), 1);
        assert_eq!(cache.get("a"), None);
    }
}
