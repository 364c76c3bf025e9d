//! Issuing, verifying, introspecting and revoking tokens. Access tokens are self-contained JWTs,
//! or for clients that chose so opaque references to the same claims held here; either way, what
//! makes one inactive before its expiry is its family being revoked (authorization-code grants:
//! code replay, refresh reuse, consent withdrawn) or its `jti` being revoked (RFC 7009).
//!
//! `TokenService` is split by concept: `codes` (authorization codes and PKCE), `refresh`
//! (refresh tokens and their families), `minting` (signing access tokens, or storing opaque
//! ones: `opaque`), `verification` (checking, introspecting and revoking). The grant rules that use them live in
//! `domain::grants`; nothing here knows about HTTP or oxide-auth's flows.

mod codes;
mod minting;
mod opaque;
mod refresh;
mod verification;

pub use codes::{AUTH_TIME, CODE_TTL_SECS, CodeRecord, METHODS, NONCE, SID, pkce_verified};
pub use minting::Mint;
pub use refresh::RefreshRecord;
pub use verification::{ActiveToken, BearerError};

use crate::clock::Clock;
use crate::domain::jwt::{KeySet, Keys, SigningAlg, StoredKey, generate_key};
use crate::error::{AppError, Result};
use crate::runtime::cache::Caches;
use crate::secret::SecretHasher;
use crate::storage::writer::Writer;
use crate::storage::{self, Db};

/// Everything needed to mint and check tokens; cheap to clone.
#[derive(Clone)]
pub struct TokenService {
    db: Db,
    /// Where codes and refresh tokens are written (`storage::writer`).
    writer: Writer,
    hasher: SecretHasher,
    keys: Keys,
    issuer: String,
    access_ttl: i64,
    refresh_ttl: i64,
    auditor: Option<crate::runtime::audit_writer::Auditor>,
    /// Counts tokens issued per OAuth app (`runtime::usage`).
    usage: Option<crate::runtime::usage::Usage>,
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
            writer: Writer::direct(&db),
            db,
            hasher,
            keys,
            issuer,
            access_ttl,
            refresh_ttl,
            auditor: None,
            usage: None,
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

    /// Writes codes and refresh tokens through `writer` (the server's one).
    pub fn with_writer(mut self, writer: Writer) -> Self {
        self.writer = writer;
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

    /// This service counting tokens issued per app into `usage`.
    pub fn with_usage(mut self, usage: crate::runtime::usage::Usage) -> Self {
        self.usage = Some(usage);
        self
    }

    /// Counts a token request of OAuth app `client_id` (`failed`: refused).
    pub fn count_token_request(&self, client_id: &str, failed: bool) {
        if let Some(u) = &self.usage
            && !client_id.is_empty()
            && client_id != crate::domain::exchange::SESSION_CLIENT
        {
            u.count(crate::runtime::usage::Subject::AppTokens, client_id, failed);
        }
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

    /// The JWKS (RFC 7517 §5): the public JWK of every key whose tokens may still live, the
    /// active ones and retired ones, of every algorithm. On a new database it waits for the RSA
    /// key being made, so no relying party caches a set that lacks it (should making it fail,
    /// it publishes what there is).
    pub async fn published_jwks(&self) -> Result<serde_json::Value> {
        if let Err(e) = self.keys.ready_for(SigningAlg::Rs256).await {
            tracing::warn!(error = %e, "publishing the JWKS without an RSA key");
        }
        let keys = storage::keys::list_keys(&self.db, self.now() - self.access_ttl).await?;
        let keys = keys
            .iter()
            .map(crate::domain::jwt::public_jwk)
            .collect::<Result<Vec<_>>>()?;
        Ok(serde_json::json!({ "keys": keys }))
    }

    /// The signing keys.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }
}

/// Loads the published keys from storage into `keys`, creating the first Ed25519 key on a new
/// database.
pub async fn reload_keys(db: &Db, keys: &Keys, issuer: &str, access_ttl: i64) -> Result<()> {
    keys.replace(load_key_set(db, issuer, access_ttl).await?);
    Ok(())
}

/// Reads the keys still in use and parses them. On a new database the first Ed25519 key is made
/// here (it signs every access token); the first RSA key is `ensure_rsa_key`'s.
pub async fn load_key_set(db: &Db, issuer: &str, access_ttl: i64) -> Result<KeySet> {
    if !storage::keys::any_key(db, SigningAlg::EdDsa).await? {
        let key = generate_key(SigningAlg::EdDsa, wall_clock())?;
        storage::keys::insert_first_key(db, &key).await?;
    }
    let now = wall_clock();
    let stored = storage::keys::list_keys(db, now - access_ttl).await?;
    KeySet::new(stored, issuer, now)
}

/// Makes the first RSA key when the database has none (a new one, or one from before RS256 ID
/// tokens), then reloads `keys` so RS256 signing can start. Run in the background at start-up:
/// the prime search takes a few hundred milliseconds, which start-up does not wait for. Servers
/// starting together may each search, but only one key is stored.
pub async fn ensure_rsa_key(db: &Db, keys: &Keys, issuer: &str, access_ttl: i64) -> Result<()> {
    if storage::keys::any_key(db, SigningAlg::Rs256).await? {
        // Loaded at start-up already, unless another server made it since.
        if keys.current().can_sign(SigningAlg::Rs256) {
            return Ok(());
        }
        return reload_keys(db, keys, issuer, access_ttl).await;
    }
    let key = generate_off_workers(SigningAlg::Rs256).await?;
    // Another server may have finished first while this one searched for primes: the insert
    // checks again, atomically.
    if storage::keys::insert_first_key(db, &key).await? {
        tracing::info!(kid = %key.kid, "created the RSA signing key for RS256 ID tokens");
    }
    reload_keys(db, keys, issuer, access_ttl).await
}

/// New signing keys and when they start signing.
#[derive(Debug)]
pub struct Rotation {
    /// One per algorithm.
    pub keys: Vec<StoredKey>,
    /// When every node starts signing with them (Unix seconds, by the system clock).
    pub activates_at: i64,
}

/// Adds a signing key for every algorithm that signs from `delay_secs` after it is stored. Until
/// then every node publishes it in the JWKS and loads it (told through the database at once on
/// PostgreSQL, or by its poll within seconds), while the previous keys go on signing; so no
/// node signs with a key another node cannot verify or a relying party has not been offered.
/// The previous keys keep verifying (and stay in the JWKS) until the tokens they signed have
/// expired.
pub async fn rotate_keys(db: &Db, delay_secs: u32) -> Result<Rotation> {
    let mut keys = Vec::with_capacity(SigningAlg::ALL.len());
    for alg in SigningAlg::ALL {
        keys.push(generate_off_workers(alg).await?);
    }
    // Counted from the moment they are stored: making an RSA key takes a while.
    let activates_at = wall_clock() + i64::from(delay_secs);
    for key in &mut keys {
        key.activates_at = Some(activates_at);
    }
    storage::keys::insert_keys_retiring_others(db, &keys, activates_at).await?;
    Ok(Rotation { keys, activates_at })
}

/// `generate_key` on a blocking thread: an RSA key's prime search must not hold up requests.
async fn generate_off_workers(alg: SigningAlg) -> Result<StoredKey> {
    tokio::task::spawn_blocking(move || generate_key(alg, wall_clock()))
        .await
        .map_err(AppError::internal)?
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
