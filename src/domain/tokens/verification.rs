//! Checking tokens: bearer verification (a JWT's signature or an opaque token's record, expiry,
//! revocation), introspection (RFC 7662) and revocation (RFC 7009). The claims of a checked token
//! and revocation verdicts are cached (`runtime::cache`); everything that revokes invalidates
//! the verdicts, so a revoked token is refused at once even while its claims stay cached.

use sha2::{Digest, Sha256};

use super::opaque::{is_opaque, well_formed};
use super::{RefreshRecord, TokenService, reload_keys};
use crate::domain::jwt::{AccessClaims, VerifyError};
use crate::domain::principal::Principal;
use crate::domain::roles::RoleClaim;
use crate::domain::user::User;
use crate::error::{AppError, Result};
use crate::runtime::cache::Revocable;
use crate::runtime::invalidation::Stale;
use crate::storage;

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
    pub principal: Option<Principal>,
    /// Environment marker (`test`).
    pub env: Option<String>,
    /// System-credential roles.
    pub roles: Option<Vec<RoleClaim>>,
    /// System credentials without roles.
    pub full_access: Option<bool>,
    /// How the person signed in for the grant (access tokens apps got for people).
    pub amr: Option<Vec<String>>,
    /// What that sign-in is worth.
    pub acr: Option<String>,
}

impl ActiveToken {
    fn from_claims(c: AccessClaims) -> Self {
        Self {
            principal: Some(Principal::from_claims(&c)),
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
            amr: c.amr,
            acr: c.acr,
        }
    }

    fn from_refresh(rec: RefreshRecord) -> Self {
        let methods = rec.methods.unwrap_or_default();
        Self {
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
            amr: Some(methods.amr().into_iter().map(str::to_owned).collect()),
            acr: Some(methods.acr().to_owned()),
        }
    }
}

/// Why a bearer token was not accepted.
#[derive(Debug)]
pub enum BearerError {
    /// Past its expiry.
    Expired,
    /// Malformed, forged, revoked.
    Invalid,
    /// Its signature checked out but whether it was revoked could not be found out (storage
    /// failed, the database cannot be reached): it may well be valid, so it is not refused.
    Unchecked(AppError),
}

/// Why a token's claims were not accepted.
enum SignatureFailure {
    /// Expired, malformed, forged, signed by no key of ours, or (opaque) never issued.
    Refused(VerifyError),
    /// Signed by a key this node has not loaded, and the keys could not be read (the database
    /// cannot be reached): another node may well have signed it, so it is not refused. For an
    /// opaque token: its record could not be read.
    Unchecked(AppError),
}

impl TokenService {
    /// Verifies a bearer access token, JWT or opaque: signature (or record), expiry and
    /// revocation.
    pub async fn verify_bearer(&self, token: &str) -> Result<AccessClaims, BearerError> {
        let claims = match self.claims_of_token(token).await {
            Ok(c) => c,
            Err(SignatureFailure::Refused(VerifyError::Expired)) => {
                return Err(BearerError::Expired);
            }
            Err(SignatureFailure::Refused(_)) => return Err(BearerError::Invalid),
            Err(SignatureFailure::Unchecked(e)) => return Err(BearerError::Unchecked(e)),
        };
        match self.is_revoked(&claims).await {
            Ok(false) => Ok(claims),
            Ok(true) => Err(BearerError::Invalid),
            Err(e) => Err(BearerError::Unchecked(e)),
        }
    }

    /// The claims of a token: a JWT's once its signature checks out, an opaque token's from its
    /// record. Either is cached by the token's SHA-256 (claims never change; revocation is
    /// judged afresh by `is_revoked`), so a hot token costs neither a signature check nor a query.
    async fn claims_of_token(&self, token: &str) -> Result<AccessClaims, SignatureFailure> {
        let opaque = is_opaque(token);
        if opaque && !well_formed(token) {
            // A damaged opaque token is refused before the cache or the database is asked.
            return Err(SignatureFailure::Refused(VerifyError::Invalid));
        }
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let cache = self.caches.verified();
        if let Some(claims) = cache.get(&digest) {
            return if claims.exp <= self.now() {
                Err(SignatureFailure::Refused(VerifyError::Expired))
            } else {
                Ok(claims)
            };
        }
        let verified = if opaque {
            self.opaque_uncached(token).await
        } else {
            self.verify_uncached(token).await
        };
        if let Ok(claims) = &verified {
            cache.put(cache.ticket(), digest, claims.clone());
        }
        verified
    }

    /// An opaque token's claims from its record, refused once expired as a JWT would be.
    async fn opaque_uncached(&self, token: &str) -> Result<AccessClaims, SignatureFailure> {
        match self.find_opaque(token).await {
            Ok(Some(claims)) if claims.exp <= self.now() => {
                Err(SignatureFailure::Refused(VerifyError::Expired))
            }
            Ok(Some(claims)) => Ok(claims),
            Ok(None) => Err(SignatureFailure::Refused(VerifyError::Invalid)),
            Err(e) => Err(SignatureFailure::Unchecked(e)),
        }
    }

    /// Checks a JWT against the key set, reloading it once if the key id is new (another node,
    /// or `portcullis keys rotate`, may have added a key).
    async fn verify_uncached(&self, token: &str) -> Result<AccessClaims, SignatureFailure> {
        match self.keys.current().verify(token, self.now()) {
            Err(VerifyError::UnknownKey(_)) => {
                if !self.keys.may_reload_for_unknown_key(self.now()) {
                    return Err(SignatureFailure::Refused(VerifyError::Invalid));
                }
                match reload_keys(&self.db, &self.keys, &self.issuer, self.access_ttl).await {
                    Ok(()) => {}
                    Err(e @ AppError::Unavailable(_)) => {
                        return Err(SignatureFailure::Unchecked(e));
                    }
                    Err(_) => return Err(SignatureFailure::Refused(VerifyError::Invalid)),
                }
                match self.keys.current().verify(token, self.now()) {
                    Ok(claims) => Ok(claims),
                    Err(VerifyError::UnknownKey(_)) => {
                        Err(SignatureFailure::Refused(VerifyError::Invalid))
                    }
                    Err(e) => Err(SignatureFailure::Refused(e)),
                }
            }
            Ok(claims) => Ok(claims),
            Err(e) => Err(SignatureFailure::Refused(e)),
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
                !storage::sessions::is_alive(
                    &self.db,
                    sid,
                    self.now() - self.session_max,
                    self.now(),
                )
                .await?
            }
        };
        cache.put(ticket, what, verdict);
        Ok(verdict)
    }

    /// RFC 7662: what is known about a token, `None` when it is not active.
    pub async fn introspect(&self, token: &str) -> Result<Option<ActiveToken>> {
        if token.contains('.') || is_opaque(token) {
            return match self.verify_bearer(token).await {
                Ok(claims) => Ok(Some(ActiveToken::from_claims(claims))),
                Err(BearerError::Unchecked(e)) => Err(e),
                Err(BearerError::Expired | BearerError::Invalid) => Ok(None),
            };
        }
        let Some(rec) = storage::tokens::find_refresh(&self.db, &self.hasher.hash(token)).await?
        else {
            return Ok(None);
        };
        let active = rec.is_active(self.now());
        Ok(active.then(|| ActiveToken::from_refresh(rec)))
    }

    /// RFC 7009: revokes a token issued to `client_id`. Tokens that are unknown, invalid or
    /// another client's are ignored (the endpoint answers 200 all the same).
    /// An opaque token is revoked by its `jti`, as a JWT is, so every cache and node learns of it
    /// the same way.
    pub async fn revoke(&self, client_id: &str, token: &str) -> Result<()> {
        if token.contains('.') || is_opaque(token) {
            let claims = match self.claims_of_token(token).await {
                Ok(c) => c,
                Err(SignatureFailure::Unchecked(e)) => return Err(e),
                Err(SignatureFailure::Refused(_)) => return Ok(()),
            };
            if claims.client_id == client_id {
                storage::tokens::revoke_jti(&self.db, &claims.jti, claims.exp).await?;
                self.caches.invalidate(Stale::REVOKED);
            }
            return Ok(());
        }
        if let Some(rec) = storage::tokens::find_refresh(&self.db, &self.hasher.hash(token)).await?
            && rec.client_id == client_id
        {
            // A refresh token stands for the whole grant: end its family.
            storage::tokens::revoke_family(&self.db, &rec.family_id, self.now()).await?;
            self.caches.invalidate(Stale::REVOKED);
        }
        Ok(())
    }
}
