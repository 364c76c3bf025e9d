//! The credential service itself: what it holds (storage, caches, hasher, clock, last-use
//! recorder, auditor, policy), its construction, and the operations on credentials that already
//! exist: listing them, revoking them and writing their last use. Issuing lives in `issue.rs`,
//! checking a presented secret in `verify.rs`.

use super::model::{Credential, CredentialKind};
use crate::clock::Clock;
use crate::domain::policy::{Access, Action, Policy};
use crate::domain::principal::Principal;
use crate::error::{AppError, Result};
use crate::runtime::cache::Caches;
use crate::runtime::invalidation::Stale;
use crate::runtime::last_used::LastUsed;
use crate::secret::SecretHasher;
use crate::storage::writer::{Write, Writer};
use crate::storage::{self, Db};

/// Credential operations; cheap to clone.
#[derive(Clone)]
pub struct CredentialService {
    pub(super) db: Db,
    pub(super) caches: Caches,
    pub(super) hasher: SecretHasher,
    pub(super) clock: Clock,
    pub(super) last_used: LastUsed,
    auditor: Option<crate::runtime::audit_writer::Auditor>,
    /// Counts refused uses per credential (`runtime::usage`).
    pub(super) usage: Option<crate::runtime::usage::Usage>,
    pub(super) policy: Policy,
    /// Where last-use times are written (`storage::writer`).
    writer: Writer,
}

/// Who did it, for the audit log: the credential acting, or the person.
pub(super) fn actor_of(p: &Principal) -> (&'static str, &str) {
    match (&p.credential_id, &p.user_id, &p.client_id) {
        (Some(cid), _, _) => ("credential", cid),
        (None, Some(uid), _) => ("user", uid),
        (None, None, Some(client)) => ("client", client),
        (None, None, None) => ("anonymous", ""),
    }
}

impl CredentialService {
    /// Builds the service; `caches` must be the server's one set (see `TokenService::new`).
    pub fn new(
        db: Db,
        caches: Caches,
        hasher: SecretHasher,
        clock: Clock,
        last_used: LastUsed,
    ) -> Self {
        Self {
            policy: Policy::new(db.clone(), caches.clone(), clock.clone()),
            writer: Writer::direct(&db),
            db,
            caches,
            hasher,
            clock,
            last_used,
            auditor: None,
            usage: None,
        }
    }

    /// Writes the gathered last-use times. Cached credentials carry the last-use time they were
    /// read with, so they are dropped before the times leave memory.
    pub async fn flush_last_used(&self) -> Result<()> {
        let batch = self.last_used.snapshot();
        if batch.is_empty() {
            return Ok(());
        }
        self.writer.write(Write::LastUsed(batch.clone())).await?;
        // Only last-use times changed, which other servers may show a cache lifetime late:
        // telling them would drop their credential caches every two seconds under load.
        self.caches.forget(Stale::CREDENTIALS);
        self.last_used.forget_written(&batch);
        Ok(())
    }

    /// Writes last-use times through `writer` (the server's one).
    pub fn with_writer(mut self, writer: Writer) -> Self {
        self.writer = writer;
        self
    }

    /// This service counting refused uses of credentials into `usage`.
    pub fn with_usage(mut self, usage: crate::runtime::usage::Usage) -> Self {
        self.usage = Some(usage);
        self
    }

    /// Records credential events in this audit log.
    pub fn with_auditor(mut self, auditor: crate::runtime::audit_writer::Auditor) -> Self {
        self.auditor = Some(auditor);
        self
    }

    /// Records an event about `c`; `actor` None: its owner did it.
    pub(super) fn audit(&self, event_type: &str, c: &Credential, actor: Option<(&str, &str)>) {
        let actor = actor.unwrap_or(("user", c.user_id.as_deref().unwrap_or_default()));
        self.audit_detail(event_type, c, actor, serde_json::Value::Null);
    }

    /// `audit` with more detail than the credential's kind, name and prefix.
    pub(super) fn audit_detail(
        &self,
        event_type: &str,
        c: &Credential,
        (kind, id): (&str, &str),
        extra: serde_json::Value,
    ) {
        if let Some(a) = &self.auditor {
            let mut detail =
                serde_json::json!({"kind": c.kind.as_str(), "name": c.name, "prefix": c.prefix});
            if let (Some(d), serde_json::Value::Object(more)) = (detail.as_object_mut(), extra) {
                d.extend(more);
            }
            a.record(
                crate::domain::audit::AuditEvent::here(event_type)
                    .by(kind, id)
                    .about(c.user_id.as_deref())
                    .tenant(Some(&c.tenant_id))
                    .target(format!("credential:{}", c.id))
                    .detail(detail),
            );
        }
    }

    /// The authorization policy it asks.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The clock it judges expiry by.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The last-use recorder.
    pub fn last_used(&self) -> &LastUsed {
        &self.last_used
    }

    /// The caller's own live credentials of one kind in a tenant (`read`).
    pub async fn list_own(
        &self,
        caller: &Principal,
        tenant: &str,
        kind: CredentialKind,
    ) -> Result<Vec<Credential>> {
        let access = self.policy.authorize(caller, tenant, Action::Read).await?;
        self.list(&access.user.id, Some(&access.tenant.id), kind)
            .await
    }

    /// A person's live credentials of one kind, optionally in one tenant.
    pub async fn list(
        &self,
        user_id: &str,
        tenant_id: Option<&str>,
        kind: CredentialKind,
    ) -> Result<Vec<Credential>> {
        let mut list =
            storage::credentials::list_live(&self.db, user_id, tenant_id, &[kind]).await?;
        self.with_pending_use(&mut list);
        Ok(list)
    }

    fn with_pending_use(&self, list: &mut [Credential]) {
        for c in list {
            if let Some(at) = self.last_used.pending(&c.id) {
                c.last_used_at = Some(at);
            }
        }
    }

    /// Every member's live credentials in a tenant, for its administrators.
    pub async fn list_tenant(
        &self,
        caller: &Principal,
        tenant: &str,
    ) -> Result<(Access, Vec<Credential>)> {
        let access = self
            .policy
            .authorize(caller, tenant, Action::ManageMemberCredentials)
            .await?;
        let mut list =
            storage::credentials::list_live_in_tenant(&self.db, &access.tenant.id).await?;
        self.with_pending_use(&mut list);
        Ok((access, list))
    }

    /// Revokes any member's credential in a tenant (its administrators). `NotFound` when no
    /// live credential of the tenant has that id.
    pub async fn revoke_in_tenant(&self, caller: &Principal, tenant: &str, id: &str) -> Result<()> {
        let access = self
            .policy
            .authorize(caller, tenant, Action::ManageMemberCredentials)
            .await?;
        let c = storage::credentials::find_by_id(&self.db, id)
            .await?
            .filter(|c| c.tenant_id == access.tenant.id && c.revoked_at.is_none())
            .ok_or(AppError::NotFound("Credential"))?;
        let owner = c.user_id.as_deref().unwrap_or_default();
        self.revoke_rows(
            &access.principal,
            owner,
            c.kind,
            Some(id),
            Some(&access.tenant.id),
        )
        .await
    }

    /// Revokes the caller's own credential of `kind` (`id` None: all of that kind, in any
    /// tenant). `NotFound` if nothing was live.
    pub async fn revoke_own(
        &self,
        caller: &Principal,
        tenant: &str,
        kind: CredentialKind,
        id: Option<&str>,
    ) -> Result<()> {
        let access = self.manage_own(caller, tenant).await?;
        // From the person's own session, any credential of theirs; anything else acts only in
        // the tenant it names.
        let scope = match (&access.principal.origin, id) {
            (crate::domain::policy::Origin::Session, _) | (_, None) => None,
            (_, Some(_)) => Some(access.tenant.id.as_str()),
        };
        self.revoke_rows(&access.principal, &access.user.id, kind, id, scope)
            .await
    }

    async fn revoke_rows(
        &self,
        by: &Principal,
        user_id: &str,
        kind: CredentialKind,
        id: Option<&str>,
        tenant_id: Option<&str>,
    ) -> Result<()> {
        let n =
            storage::credentials::revoke(&self.db, user_id, kind, id, tenant_id, self.clock.now())
                .await?;
        self.revoked_some();
        if n == 0 {
            return Err(AppError::NotFound(kind.label()));
        }
        if let Some(a) = &self.auditor {
            let target = id.map_or_else(
                || format!("credential-kind:{}", kind.as_str()),
                |id| format!("credential:{id}"),
            );
            let (actor_type, actor_id) = actor_of(by);
            a.record(
                crate::domain::audit::AuditEvent::here("credential.revoked")
                    .by(actor_type, actor_id)
                    .about(Some(user_id))
                    .tenant(tenant_id)
                    .target(target)
                    .detail(serde_json::json!({"kind": kind.as_str()})),
            );
        }
        Ok(())
    }

    /// Revoked credentials must stop working at once: drop what the caches hold.
    pub(super) fn revoked_some(&self) {
        self.caches.invalidate(Stale::CREDENTIALS | Stale::REVOKED);
    }
}
