//! Issuing, verifying, introspecting and revoking tokens. Access tokens are self-contained JWTs;
//! what makes one inactive before its expiry is its family being revoked (authorization-code
//! grants: code replay, refresh reuse, consent withdrawn) or its `jti` being revoked (RFC 7009).

use sha2::{Digest, Sha256};

use crate::domain::jwt::{AccessClaims, KeySet, Keys, VerifyError};
use crate::domain::user::User;
use crate::error::{AppError, Result};
use crate::runtime::cache::{Caches, Revocable};
use crate::secret::{RefreshToken, SecretHasher, random_token};
use crate::storage::{self, Db, tokens::CodeOutcome};

/// Lifetime of an authorization code (RFC 6749 §4.1.2 recommends at most 10 minutes).
pub const CODE_TTL_SECS: i64 = 60;

/// A stored authorization code.
#[derive(Debug, Clone)]
pub struct CodeRecord {
    /// Client it was issued to.
    pub client_id: String,
    /// The approving person's id.
    pub user_id: String,
    /// Redirect URI it was issued for.
    pub redirect_uri: String,
    /// Approved scopes.
    pub scope: String,
    /// oxide-auth grant extensions (the PKCE challenge), JSON.
    pub extensions: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// The family its tokens join.
    pub family_id: String,
}

/// A stored refresh token.
#[derive(Debug, Clone)]
pub struct RefreshRecord {
    /// Family.
    pub family_id: String,
    /// Client.
    pub client_id: String,
    /// Person.
    pub user_id: String,
    /// Scopes of the original grant.
    pub scope: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// Already exchanged for a newer one.
    pub rotated: bool,
    /// Its family was revoked.
    pub family_revoked: bool,
}

/// What to put in a new access token.
#[derive(Debug, Default)]
pub struct Mint<'a> {
    /// User id, or the client id for a client acting for itself.
    pub owner_id: &'a str,
    /// Client (or credential) the token is issued to.
    pub client_id: &'a str,
    /// Space-separated scopes.
    pub scope: &'a str,
    /// Token family.
    pub gid: Option<String>,
    /// Tenant.
    pub tid: Option<String>,
    /// Environment marker.
    pub env: Option<String>,
    /// Source credential.
    pub cid: Option<String>,
    /// Lifetime; the configured access-token lifetime when `None`.
    pub ttl: Option<i64>,
    /// Roles of a system credential (empty: full access).
    pub roles: Option<Vec<crate::domain::roles::RoleClaim>>,
    /// The grant that issued it, for the audit log (empty: not recorded).
    pub grant: &'a str,
    /// The browser session it belongs to (session tokens).
    pub sid: Option<String>,
}

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
}

/// What introspection (RFC 7662) reports about an active token.
#[derive(Debug, Clone)]
pub struct ActiveToken {
    /// `Bearer` for access tokens, `refresh_token` for refresh tokens.
    pub token_type: &'static str,
    /// Scopes.
    pub scope: String,
    /// Client.
    pub client_id: String,
    /// Subject (`usr_…` or the client id).
    pub sub: String,
    /// Expiry.
    pub exp: i64,
    /// Issue time (access tokens).
    pub iat: Option<i64>,
    /// Token id (access tokens).
    pub jti: Option<String>,
    /// The caller the access token stands for, for the policy to narrow (access tokens).
    pub principal: Option<crate::domain::principal::Principal>,
    /// Environment marker (`test`).
    pub env: Option<String>,
    /// System-credential roles.
    pub roles: Option<Vec<crate::domain::roles::RoleClaim>>,
    /// System credentials without roles.
    pub full_access: Option<bool>,
}

/// Why a bearer token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerError {
    /// Past its expiry.
    Expired,
    /// Malformed, forged, revoked.
    Invalid,
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
        }
    }

    /// The absolute lifetime of browser sessions (seconds): tokens tied to a session die when
    /// it ends.
    pub fn with_session_max(mut self, secs: i64) -> Self {
        self.session_max = secs;
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
        storage::keys::list_keys(&self.db, now() - self.access_ttl).await
    }

    /// The signing keys.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// Signs an access token. `owner_id` is a user id, or equals `client_id` for tokens a client
    /// obtained for itself.
    pub fn mint(
        &self,
        owner_id: &str,
        client_id: &str,
        scope: &str,
        gid: Option<String>,
    ) -> Result<(String, AccessClaims)> {
        self.mint_with(Mint {
            owner_id,
            client_id,
            scope,
            gid,
            ..Mint::default()
        })
    }

    /// Signs an access token with every option.
    pub fn mint_with(&self, m: Mint<'_>) -> Result<(String, AccessClaims)> {
        let now = now();
        let sub = if m.owner_id == m.client_id {
            m.client_id.to_owned()
        } else {
            User::public_id_of(m.owner_id)
        };
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            sub,
            aud: self.issuer.clone(),
            exp: now + m.ttl.unwrap_or(self.access_ttl),
            iat: now,
            jti: crate::secret::unordered_uuid_v7().to_string(),
            client_id: m.client_id.to_owned(),
            // Canonical (sorted) order, whatever order the request used.
            scope: crate::domain::scope::ScopeSet::parse(m.scope)
                .map_or_else(|_| m.scope.to_owned(), |s| s.to_string()),
            gid: m.gid,
            tid: m.tid,
            env: m.env,
            cid: m.cid,
            full_access: m.roles.as_ref().map(Vec::is_empty),
            roles: m.roles,
            sid: m.sid,
        };
        let token = self.keys.current().sign(&claims)?;
        if !m.grant.is_empty() {
            let user = User::id_from_public(&claims.sub);
            let actor = claims
                .cid
                .as_deref()
                .map_or(("client", claims.client_id.as_str()), |c| ("credential", c));
            self.audit(
                crate::domain::audit::AuditEvent::here("token.issued")
                    .by(actor.0, actor.1)
                    .about(user.as_deref())
                    .tenant(claims.tid.as_deref())
                    .target(format!("token:{}", claims.jti))
                    .detail(serde_json::json!({"grant_type": m.grant, "client_id": claims.client_id, "scope": claims.scope})),
            );
        }
        Ok((token, claims))
    }

    /// Stores a new authorization code and returns it.
    pub async fn create_code(&self, mut record: CodeRecord) -> Result<String> {
        let code = random_token::<32>();
        record.expires_at = record.expires_at.min(now() + CODE_TTL_SECS);
        record.family_id = uuid::Uuid::now_v7().to_string();
        storage::tokens::insert_code(&self.db, &self.hasher.hash(&code), &record).await?;
        Ok(code)
    }

    /// Redeems a code once. Unknown, expired and replayed codes give `None`; a replay also
    /// revokes every token issued from the code.
    pub async fn redeem_code(&self, code: &str) -> Result<Option<CodeRecord>> {
        match storage::tokens::consume_code(&self.db, &self.hasher.hash(code)).await? {
            CodeOutcome::Redeemed(rec) if rec.expires_at > now() => Ok(Some(rec)),
            CodeOutcome::Redeemed(_) | CodeOutcome::Unknown => Ok(None),
            CodeOutcome::Replayed {
                family_id,
                client_id,
                user_id,
            } => {
                self.caches.revoked().invalidate();
                tracing::warn!("authorization code replayed: its token family was revoked");
                self.audit(
                    crate::domain::audit::AuditEvent::here("token.code_replayed")
                        .by("client", &client_id)
                        .about(Some(&user_id))
                        .target(format!("family:{family_id}"))
                        .failed(),
                );
                Ok(None)
            }
        }
    }

    /// Issues a refresh token in a family.
    pub async fn issue_refresh(
        &self,
        family_id: &str,
        client_id: &str,
        user_id: &str,
        scope: &str,
    ) -> Result<RefreshToken> {
        let token = RefreshToken::new(random_token::<32>());
        let rec = RefreshRecord {
            family_id: family_id.to_owned(),
            client_id: client_id.to_owned(),
            user_id: user_id.to_owned(),
            scope: scope.to_owned(),
            expires_at: now() + self.refresh_ttl,
            rotated: false,
            family_revoked: false,
        };
        storage::tokens::insert_refresh(&self.db, &self.hasher.hash(token.expose()), &rec).await?;
        Ok(token)
    }

    /// A usable refresh token's record. Presenting an already-rotated token is reuse: the whole
    /// family is revoked.
    pub async fn recover_refresh(&self, token: &str) -> Result<Option<RefreshRecord>> {
        let Some(rec) = storage::tokens::find_refresh(&self.db, &self.hasher.hash(token)).await?
        else {
            return Ok(None);
        };
        if rec.rotated {
            self.reuse_detected(&rec).await?;
            return Ok(None);
        }
        Ok((!rec.family_revoked && rec.expires_at > now()).then_some(rec))
    }

    /// Spends a refresh token whose record `recover_refresh` returned; a lost race (concurrent
    /// reuse) revokes the family.
    pub async fn rotate_refresh(
        &self,
        token: &str,
        rec: RefreshRecord,
    ) -> Result<Option<RefreshRecord>> {
        let hash = self.hasher.hash(token);
        if !storage::tokens::rotate_refresh(&self.db, &hash).await? {
            self.reuse_detected(&rec).await?;
            return Ok(None);
        }
        Ok(Some(rec))
    }

    async fn reuse_detected(&self, rec: &RefreshRecord) -> Result<()> {
        let family_id = rec.family_id.as_str();
        tracing::warn!(
            family_id,
            "refresh token reused: its token family was revoked"
        );
        self.audit(
            crate::domain::audit::AuditEvent::here("token.refresh_reuse_detected")
                .by("client", &rec.client_id)
                .about(Some(&rec.user_id))
                .target(format!("family:{family_id}"))
                .failed(),
        );
        storage::tokens::revoke_family(&self.db, family_id).await?;
        self.caches.revoked().invalidate();
        Ok(())
    }

    /// Verifies a bearer access token: signature, expiry and revocation.
    pub async fn verify_bearer(&self, token: &str) -> Result<AccessClaims, BearerError> {
        let claims = match self.verify_signature(token).await {
            Ok(c) => c,
            Err(VerifyError::Expired) => return Err(BearerError::Expired),
            Err(VerifyError::Invalid | VerifyError::UnknownKey(_)) => {
                return Err(BearerError::Invalid);
            }
        };
        match self.is_revoked(&claims).await {
            Ok(false) => Ok(claims),
            Ok(true) => Err(BearerError::Invalid),
            Err(e) => {
                tracing::error!(error = %e, "revocation check failed");
                Err(BearerError::Invalid)
            }
        }
    }

    /// Checks a JWT against the key set, reloading it once if the key id is new (another node,
    /// or `portcullis keys rotate`, may have added a key).
    async fn verify_signature(&self, token: &str) -> Result<AccessClaims, VerifyError> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let cache = self.caches.verified();
        if let Some(claims) = cache.get(&digest) {
            return if claims.exp <= now() {
                Err(VerifyError::Expired)
            } else {
                Ok(claims)
            };
        }
        let verified = self.verify_uncached(token).await;
        if let Ok(claims) = &verified {
            cache.put(cache.ticket(), digest, claims.clone());
        }
        verified
    }

    async fn verify_uncached(&self, token: &str) -> Result<AccessClaims, VerifyError> {
        match self.keys.current().verify(token, now()) {
            Err(VerifyError::UnknownKey(_)) => {
                if !self.keys.may_reload_for_unknown_key(now())
                    || reload_keys(&self.db, &self.keys, &self.issuer, self.access_ttl)
                        .await
                        .is_err()
                {
                    return Err(VerifyError::Invalid);
                }
                match self.keys.current().verify(token, now()) {
                    Err(VerifyError::UnknownKey(_)) => Err(VerifyError::Invalid),
                    other => other,
                }
            }
            other => other,
        }
    }

    async fn is_revoked(&self, claims: &AccessClaims) -> Result<bool> {
        if let Some(gid) = &claims.gid
            && self.revoked(Revocable::Family(gid.clone())).await?
        {
            return Ok(true);
        }
        if let Some(cid) = &claims.cid
            && self.revoked(Revocable::Credential(cid.clone())).await?
        {
            return Ok(true);
        }
        // A client's own token dies with the client (a deleted system credential).
        if claims.gid.is_none()
            && claims.cid.is_none()
            && claims.sub == claims.client_id
            && crate::domain::client::find_cached(&self.db, &self.caches, &claims.client_id)
                .await?
                .is_none()
        {
            return Ok(true);
        }
        // A session token lives only as long as its browser session. Sign-out and revocation
        // also enter its jti below, at once; this catches the session's idle and absolute
        // expiry, which happen without a request to mark anything.
        if let Some(sid) = &claims.sid
            && self.revoked(Revocable::Session(sid.clone())).await?
        {
            return Ok(true);
        }
        self.revoked(Revocable::Jti(claims.jti.clone())).await
    }

    /// One revocation verdict, cached (see `runtime::cache`).
    async fn revoked(&self, what: Revocable) -> Result<bool> {
        let cache = self.caches.revoked();
        if let Some(verdict) = cache.get(&what) {
            return Ok(verdict);
        }
        let ticket = cache.ticket();
        let verdict = match &what {
            Revocable::Family(gid) => storage::tokens::family_revoked(&self.db, gid).await?,
            Revocable::Credential(cid) => storage::credentials::is_revoked(&self.db, cid).await?,
            Revocable::Jti(jti) => storage::tokens::jti_revoked(&self.db, jti).await?,
            Revocable::Session(sid) => {
                !storage::sessions::is_alive(&self.db, sid, now() - self.session_max, now()).await?
            }
        };
        cache.put(ticket, what, verdict);
        Ok(verdict)
    }

    /// RFC 7662: what is known about a token, `None` when it is not active.
    pub async fn introspect(&self, token: &str) -> Result<Option<ActiveToken>> {
        if token.contains('.') {
            return Ok(self.verify_bearer(token).await.ok().map(|c| ActiveToken {
                principal: Some(crate::domain::principal::Principal::from_claims(&c)),
                token_type: "Bearer",
                scope: c.scope,
                client_id: c.client_id,
                sub: c.sub,
                exp: c.exp,
                iat: Some(c.iat),
                jti: Some(c.jti),
                env: c.env,
                roles: c.roles,
                full_access: c.full_access,
            }));
        }
        let Some(rec) = storage::tokens::find_refresh(&self.db, &self.hasher.hash(token)).await?
        else {
            return Ok(None);
        };
        let active = !rec.rotated && !rec.family_revoked && rec.expires_at > now();
        Ok(active.then(|| ActiveToken {
            token_type: "refresh_token",
            scope: rec.scope,
            client_id: rec.client_id,
            sub: User::public_id_of(&rec.user_id),
            exp: rec.expires_at,
            iat: None,
            jti: None,
            principal: None,
            env: None,
            roles: None,
            full_access: None,
        }))
    }

    /// RFC 7009: revokes a token issued to `client_id`. Tokens that are unknown, invalid or
    /// another client's are ignored (the endpoint answers 200 all the same).
    pub async fn revoke(&self, client_id: &str, token: &str) -> Result<()> {
        if token.contains('.') {
            let claims = match self.verify_signature(token).await {
                Ok(c) => c,
                Err(_) => return Ok(()),
            };
            if claims.client_id == client_id {
                storage::tokens::revoke_jti(&self.db, &claims.jti, claims.exp).await?;
                self.caches.revoked().invalidate();
            }
            return Ok(());
        }
        if let Some(rec) = storage::tokens::find_refresh(&self.db, &self.hasher.hash(token)).await?
            && rec.client_id == client_id
        {
            // A refresh token stands for the whole grant: end its family.
            storage::tokens::revoke_family(&self.db, &rec.family_id).await?;
            self.caches.revoked().invalidate();
        }
        Ok(())
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
        let key = crate::domain::jwt::generate_key(now())?;
        storage::keys::insert_key_retiring_others(db, &key).await?;
    }
    let stored = storage::keys::list_keys(db, now() - access_ttl).await?;
    KeySet::new(stored, issuer)
}

/// Adds a signing key; the previous one keeps verifying (and stays in the JWKS) until the
/// tokens it signed have expired.
pub async fn rotate_keys(db: &Db) -> Result<String> {
    let key = crate::domain::jwt::generate_key(now())?;
    storage::keys::insert_key_retiring_others(db, &key).await?;
    Ok(key.kid)
}

/// Fails with `Internal` if something unexpected is None; keeps call sites short.
pub fn internal(what: &str) -> AppError {
    AppError::internal(anyhow::anyhow!("{what}"))
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
