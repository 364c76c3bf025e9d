//! Refresh tokens (RFC 6749 §6): opaque, stored by keyed hash, rotated on every use, and grouped
//! in families so that presenting a rotated token again (reuse: one of the two holders is a
//! thief) revokes the whole family (OAuth 2.0 Security BCP §4.14.2).

use super::TokenService;
use crate::domain::audit::AuditEvent;
use crate::domain::auth_methods::AuthMethods;
use crate::error::Result;
use crate::runtime::invalidation::Stale;
use crate::secret::{RefreshToken, random_token};
use crate::storage;
use crate::storage::writer::Write;

/// Random bytes in a refresh token (256 bits).
pub(super) const REFRESH_BYTES: usize = 32;

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
    /// When the person signed in to approve the grant (OpenID Connect `auth_time`), if known.
    pub auth_time: Option<i64>,
    /// The browser session the grant was approved in (OpenID Connect `sid`), if known.
    pub sid: Option<String>,
    /// How the person signed in for the grant (`amr` and `acr`), if known.
    pub methods: Option<AuthMethods>,
}

impl RefreshRecord {
    /// Whether the token may still be exchanged at `now`: not rotated, not revoked, not expired.
    pub fn is_active(&self, now: i64) -> bool {
        !self.rotated && !self.family_revoked && self.expires_at > now
    }
}

impl TokenService {
    /// A new refresh token, its keyed hash and its record (not stored yet).
    pub(super) fn new_refresh(
        &self,
        family_id: &str,
        client_id: &str,
        user_id: &str,
        scope: &str,
    ) -> (RefreshToken, String, RefreshRecord) {
        let token = RefreshToken::new(random_token::<REFRESH_BYTES>());
        let hash = self.hasher.hash(token.expose());
        let rec = RefreshRecord {
            family_id: family_id.to_owned(),
            client_id: client_id.to_owned(),
            user_id: user_id.to_owned(),
            scope: scope.to_owned(),
            expires_at: self.now() + self.refresh_ttl,
            rotated: false,
            family_revoked: false,
            // The family's, which this record does not write.
            auth_time: None,
            sid: None,
            methods: None,
        };
        (token, hash, rec)
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
        Ok(rec.is_active(self.now()).then_some(rec))
    }

    /// Spends a refresh token whose record `recover_refresh` returned and stores its successor
    /// in the same family, in one write: both or neither. A lost race (concurrent reuse)
    /// revokes the family and issues nothing.
    pub async fn rotate_refresh(
        &self,
        token: &str,
        rec: RefreshRecord,
    ) -> Result<Option<(RefreshRecord, RefreshToken)>> {
        let (next, new, next_rec) =
            self.new_refresh(&rec.family_id, &rec.client_id, &rec.user_id, &rec.scope);
        let rotation = Write::RotateRefresh {
            old: self.hasher.hash(token),
            new,
            rec: next_rec,
            at: self.now(),
        };
        if !self.writer.write(rotation).await?.rotated()? {
            self.reuse_detected(&rec).await?;
            return Ok(None);
        }
        Ok(Some((rec, next)))
    }

    async fn reuse_detected(&self, rec: &RefreshRecord) -> Result<()> {
        let family_id = rec.family_id.as_str();
        tracing::warn!(
            family_id,
            "refresh token reused: its token family was revoked"
        );
        self.audit(
            AuditEvent::here("token.refresh_reuse_detected")
                .by("client", &rec.client_id)
                .about(Some(&rec.user_id))
                .target(format!("family:{family_id}"))
                .failed(),
        );
        storage::tokens::revoke_family(&self.db, family_id, self.now()).await?;
        self.caches.invalidate(Stale::REVOKED);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> RefreshRecord {
        RefreshRecord {
            family_id: "f".into(),
            client_id: "c".into(),
            user_id: "u".into(),
            scope: "read".into(),
            expires_at: 100,
            rotated: false,
            family_revoked: false,
            auth_time: None,
            sid: None,
            methods: None,
        }
    }

    #[test]
    fn a_refresh_token_is_active_until_rotated_revoked_or_expired() {
        assert!(record().is_active(99));
        assert!(!record().is_active(100), "expired at its expiry");
        assert!(
            !RefreshRecord {
                rotated: true,
                ..record()
            }
            .is_active(0)
        );
        assert!(
            !RefreshRecord {
                family_revoked: true,
                ..record()
            }
            .is_active(0)
        );
    }
}
