//! Issuing, verifying, introspecting and revoking tokens. Access tokens are self-contained JWTs;
//! what makes one inactive before its expiry is its family being revoked (authorization-code
//! grants: code replay, refresh reuse, consent withdrawn) or its `jti` being revoked (RFC 7009).
//!
//! `TokenService` is split by concept: `codes` (authorization codes and PKCE), `refresh`
//! (refresh tokens and their families), `minting` (signing access tokens), `verification`
//! (checking, introspecting and revoking). The grant rules that use them live in
//! `domain::grants`; nothing here knows about HTTP or oxide-auth's flows.

mod codes;
mod minting;
mod refresh;
mod verification;

pub use codes::{AUTH_TIME, CODE_TTL_SECS, CodeRecord, NONCE, pkce_verified};
pub use minting::Mint;
pub use refresh::RefreshRecord;
pub use verification::{ActiveToken, BearerError};

use crate::clock::Clock;
use crate::domain::jwt::{KeySet, Keys};
use crate::error::{AppError, Result};
use crate::runtime::cache::Caches;
use crate::secret::SecretHasher;
use crate::storage::{self, Db};

/// Everything needed to mint and check tokens; cheap to clone.
#[derive(Clone)]
pub struct TokenService {
    db: Db,
    hasher: SecretHasher,
    keys: Keys,
    issuer: String,
    access_ttl: i64,
    refresh_ttl: i64,
    auditor: Option<crate::runtime::audit_writer::Auditor>,
    caches: Caches,
    session_max: i64,
    /// The server's clock: tokens are issued and judged by the same clock that ages sessions
    /// and credentials.
    clock: Clock,
}

impl TokenService {
    /// Builds the service. `caches` must be the server's one set, shared with everything that
    /// revokes or changes clients, so that its changes invalidate what this service reads.
    pub fn new(
        db: Db,
        caches: Caches,
        hasher: SecretHasher,
        keys: Keys,
        issuer: String,
        access_ttl: i64,
        refresh_ttl: i64,
    ) -> Self {
        Self {
            db,
            hasher,
            keys,
            issuer,
            access_ttl,
            refresh_ttl,
            auditor: None,
            caches,
            // `--session-max-hours`' default, until `with_session_max` says otherwise.
            session_max: 12 * 3600,
            clock: Clock::default(),
        }
    }

    /// The absolute lifetime of browser sessions (seconds): tokens tied to a session die when
    /// it ends.
    pub fn with_session_max(mut self, secs: i64) -> Self {
        self.session_max = secs;
        self
    }

    /// Issues and judges tokens by `clock` (the server's; tests move it).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Records security events (issuance, replays, reuse) in this audit log.
    pub fn with_auditor(mut self, auditor: crate::runtime::audit_writer::Auditor) -> Self {
        self.auditor = Some(auditor);
        self
    }

    fn audit(&self, event: crate::domain::audit::AuditEvent) {
        if let Some(a) = &self.auditor {
            a.record(event);
        }
    }

    fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The clock tokens are issued and judged by.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Access-token lifetime in seconds.
    pub fn access_ttl(&self) -> i64 {
        self.access_ttl
    }

    /// The issuer URL.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The keyed hasher for secrets.
    pub fn hasher(&self) -> &SecretHasher {
        &self.hasher
    }

    /// Keys to publish in the JWKS: the active one and retired ones whose tokens may still live.
    pub async fn published_keys(&self) -> Result<Vec<crate::domain::jwt::StoredKey>> {
        storage::keys::list_keys(&self.db, self.now() - self.access_ttl).await
    }

    /// The signing keys.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }
}

/// Loads the published keys from storage into `keys`, creating the first key on a new database.
pub async fn reload_keys(db: &Db, keys: &Keys, issuer: &str, access_ttl: i64) -> Result<()> {
    keys.replace(load_key_set(db, issuer, access_ttl).await?);
    Ok(())
}

/// Reads the keys still in use and parses them.
pub async fn load_key_set(db: &Db, issuer: &str, access_ttl: i64) -> Result<KeySet> {
    if !storage::keys::any_key(db).await? {
        let key = crate::domain::jwt::generate_key(wall_clock())?;
        storage::keys::insert_key_retiring_others(db, &key, key.created_at).await?;
    }
    let stored = storage::keys::list_keys(db, wall_clock() - access_ttl).await?;
    KeySet::new(stored, issuer)
}

/// Adds a signing key; the previous one keeps verifying (and stays in the JWKS) until the
/// tokens it signed have expired.
pub async fn rotate_keys(db: &Db) -> Result<String> {
    let key = crate::domain::jwt::generate_key(wall_clock())?;
    storage::keys::insert_key_retiring_others(db, &key, key.created_at).await?;
    Ok(key.kid)
}

/// Fails with `Internal` if something unexpected is None; keeps call sites short.
pub fn internal(what: &str) -> AppError {
    AppError::internal(anyhow::anyhow!("{what}"))
}

/// Key management runs at startup, from the command line and in the key reloader, none of which
/// holds the service; keys are dated by the system clock, as the service's own clock reads it.
fn wall_clock() -> i64 {
    Clock::default().now()
}
