//! Checking a presented credential secret: `verify` (a use by its holder, allowlist included),
//! `inspect` (a look by someone else, not a use) and the account secret key's check against its
//! owner's email. Format and checksum are checked before any lookup; nothing here issues or
//! revokes.

use std::net::IpAddr;

use super::model::{Credential, CredentialKind, Refusal};
use super::service::CredentialService;
use crate::domain::secret_format;
use crate::error::Result;
use crate::storage;

impl CredentialService {
    /// The credential a secret hashes to, from the cache when it was read recently.
    async fn find_by_secret(&self, secret: &str) -> Result<Credential, Refusal> {
        let hash = self.hasher.hash(secret);
        self.caches
            .credentials()
            .get_or_load(
                hash.as_str(),
                storage::credentials::find_by_hash(&self.db, &hash),
            )
            .await
            .map_err(Refusal::Failed)?
            .ok_or(Refusal::Invalid)
    }

    /// Checks a presented secret (`ip`: the presenter's address, checked against the allowlist;
    /// `None` skips that check): format and checksum first (no lookup for a typo), then one
    /// keyed hash and one indexed lookup, revocation, expiry and the IP allowlist. This is a
    /// use: it records the last use (and `credential.first_used` the first time).
    /// A refusal of a credential that exists (revoked, expired, wrong address) counts as a
    /// failed request of that credential (`runtime::usage`).
    pub async fn verify(&self, secret: &str, ip: Option<IpAddr>) -> Result<Credential, Refusal> {
        let c = self.find(secret).await?;
        let now = self.clock.now();
        let judged = self.judge(&c).and_then(|()| match ip {
            Some(ip)
                if !c.allowed_ips.is_empty() && !c.allowed_ips.iter().any(|n| n.contains(&ip)) =>
            {
                Err(Refusal::IpNotAllowed)
            }
            _ => Ok(()),
        });
        if let Err(refusal) = judged {
            if let Some(u) = &self.usage {
                u.count(crate::runtime::usage::Subject::Credential, &c.id, true);
            }
            return Err(refusal);
        }
        if c.last_used_at.is_none() && self.last_used.pending(&c.id).is_none() {
            self.audit("credential.first_used", &c, Some(("credential", &c.id)));
        }
        self.last_used
            .touch(&c.id, now, ip.map(|i| i.to_string()).unwrap_or_default());
        Ok(c)
    }

    /// Checks a presented secret as `verify` does, but for someone who is not its holder (a
    /// resource server introspecting it): no allowlist check, and it is not a use, so neither
    /// the last use nor `credential.first_used` is recorded (nor does a personal token's idle
    /// expiry move).
    pub async fn inspect(&self, secret: &str) -> Result<Credential, Refusal> {
        let c = self.find(secret).await?;
        self.judge(&c)?;
        Ok(c)
    }

    /// The credential a well-formed secret names, judged or not.
    async fn find(&self, secret: &str) -> Result<Credential, Refusal> {
        let kind = secret_format::check(secret).map_err(|_| Refusal::Invalid)?;
        CredentialKind::of_secret(kind).ok_or(Refusal::Invalid)?;
        self.find_by_secret(secret).await
    }

    /// Refuses a revoked or expired credential.
    fn judge(&self, c: &Credential) -> Result<(), Refusal> {
        if c.revoked_at.is_some() {
            return Err(Refusal::Revoked);
        }
        if c.effective_expiry(self.last_used.pending(&c.id))
            .is_some_and(|exp| exp <= self.clock.now())
        {
            return Err(Refusal::Expired);
        }
        Ok(())
    }

    /// The person's account secret key is checked against their email (`POST /auth/token`).
    pub async fn verify_secret_key_for(
        &self,
        email: &str,
        secret: &str,
        ip: Option<IpAddr>,
    ) -> Result<Credential, Refusal> {
        let c = self.verify(secret, ip).await?;
        if c.kind != CredentialKind::SecretKey {
            return Err(Refusal::Invalid);
        }
        let owner = match &c.user_id {
            Some(id) => storage::users::find_user(&self.db, id)
                .await
                .map_err(Refusal::Failed)?,
            None => None,
        };
        let matches =
            owner.is_some_and(|u| crate::secret::ct_eq(&u.email, &email.trim().to_lowercase()));
        if matches {
            Ok(c)
        } else {
            Err(Refusal::Invalid)
        }
    }
}
