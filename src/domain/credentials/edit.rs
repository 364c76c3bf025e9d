//! Changing a credential after its creation: renaming it, and rolling an API key the way
//! Stripe does — a new secret now with the same name, permissions, environment, expiry and
//! allowlist, while the old secret keeps working for an overlap the person chooses (so a
//! deployment can switch without downtime), then expires by itself. Both are listed meanwhile.

use super::model::{Credential, CredentialKind, Environment, Issued};
use super::service::{CredentialService, actor_of};
use crate::domain::policy::{Access, Origin};
use crate::domain::principal::Principal;
use crate::domain::secret_format::Kind;
use crate::domain::user::DisplayName;
use crate::error::{AppError, Result};
use crate::storage;

/// The longest the old secret of a rolled key may keep working: a week, as Stripe allows.
pub const MAX_ROLL_OVERLAP: i64 = 7 * 86_400;

/// The outcome of a roll.
pub struct Rolled {
    /// The new key and its secret.
    pub issued: Issued,
    /// Until when the old secret works (Unix seconds); `None` when it stopped at once.
    pub old_valid_until: Option<i64>,
}

impl CredentialService {
    /// One of the caller's live credentials that they may change here: from their own
    /// session any of theirs, otherwise only one of the tenant named (as revoking decides).
    async fn own_live(&self, access: &Access, id: &str) -> Result<Credential> {
        let now = self.clock.now();
        storage::credentials::find_by_id(&self.db, id)
            .await?
            .filter(|c| c.user_id.as_deref() == Some(access.user.id.as_str()))
            .filter(|c| c.revoked_at.is_none() && c.effective_expiry(None).is_none_or(|e| e > now))
            .filter(|c| {
                matches!(access.principal.origin, Origin::Session)
                    || c.tenant_id == access.tenant.id
            })
            .ok_or(AppError::NotFound("Credential"))
    }

    /// Renames one of the caller's credentials.
    pub async fn rename(
        &self,
        caller: &Principal,
        tenant: &str,
        id: &str,
        name: &str,
    ) -> Result<Credential> {
        let access = self.manage_own(caller, tenant).await?;
        let mut c = self.own_live(&access, id).await?;
        let name =
            DisplayName::parse(name).map_err(|e| AppError::validation("name", e.to_string()))?;
        storage::credentials::rename(&self.db, &c.id, name.as_str()).await?;
        self.caches
            .invalidate(crate::runtime::invalidation::Stale::CREDENTIALS);
        c.name = name.as_str().to_owned();
        self.audit("credential.renamed", &c, Some(actor_of(&access.principal)));
        Ok(c)
    }

    /// Rolls one of the caller's API keys: a new key like it now, the old one working for
    /// `overlap` more seconds (0: it stops at once; never past its own expiry).
    pub async fn roll_api_key(
        &self,
        caller: &Principal,
        tenant: &str,
        id: &str,
        overlap: i64,
    ) -> Result<Rolled> {
        let access = self.manage_own(caller, tenant).await?;
        let old = self.own_live(&access, id).await?;
        if old.kind != CredentialKind::ApiKey {
            return Err(AppError::NotFound("API key"));
        }
        // Checked after the key is found, so nobody learns anything about another's keys.
        if !(0..=MAX_ROLL_OVERLAP).contains(&overlap) {
            return Err(AppError::validation(
                "overlap",
                "The old key may keep working for at most 7 days.",
            ));
        }
        let mut new = self.blank(&access, CredentialKind::ApiKey, old.name.clone());
        new.tenant_id = old.tenant_id.clone();
        new.permissions = old.permissions.clone();
        new.environment = old.environment;
        new.expires_at = old.expires_at;
        new.allowed_ips = old.allowed_ips.clone();
        let kind = if old.environment == Some(Environment::Test) {
            Kind::ApiKeyTest
        } else {
            Kind::ApiKeyLive
        };
        // The new key passes the caller's ceiling like any other before the old one changes.
        let issued = self.issue(&access, kind, new).await?;
        let now = self.clock.now();
        let old_valid_until = if overlap == 0 {
            storage::credentials::revoke(
                &self.db,
                &access.user.id,
                CredentialKind::ApiKey,
                Some(&old.id),
                None,
                now,
            )
            .await?;
            None
        } else {
            let until = old
                .expires_at
                .map_or(now + overlap, |e| e.min(now + overlap));
            storage::credentials::set_expiry(&self.db, &old.id, until).await?;
            Some(until)
        };
        self.revoked_some();
        self.audit_detail(
            "credential.rolled",
            &old,
            actor_of(&access.principal),
            serde_json::json!({
                "replaced_by": issued.credential.id,
                "old_valid_until": old_valid_until,
            }),
        );
        Ok(Rolled {
            issued,
            old_valid_until,
        })
    }
}
