//! The policy's live half: the lookups that turn "what the credential says" into "what its
//! owner may do right now" — current membership, the credential behind an exchanged token —
//! each read through the server's caches, which every change invalidates at once.

use std::net::IpAddr;

use super::{Action, Ceiling, Origin, Role, ServerAction, decide};
use crate::clock::Clock;
use crate::domain::context::Actor;
use crate::domain::credentials::{Credential, Refusal};
use crate::domain::principal::Principal;
use crate::domain::tenant::{self, Tenant};
use crate::domain::user::User;
use crate::domain::{accounts, client};
use crate::error::{AppError, Result};
use crate::runtime::cache::Caches;
use crate::runtime::invalidation::Stale;
use crate::storage::{self, Db};

/// A caller allowed an action in a tenant, with everything the operation needs.
#[derive(Debug, Clone)]
pub struct Access {
    /// The person acting.
    pub user: User,
    /// The tenant acted in.
    pub tenant: Tenant,
    /// Their live role there.
    pub role: Role,
    /// The caller, narrowed to that role.
    pub principal: Principal,
}

impl Access {
    /// The most this caller may hand out.
    pub fn ceiling(&self) -> Ceiling {
        Ceiling::of(&self.principal)
    }

    /// Every action the policy allows this caller here.
    pub fn allowed_actions(&self) -> Vec<Action> {
        Action::ALL
            .into_iter()
            .filter(|a| decide(&self.principal, self.role, *a).is_ok())
            .collect()
    }
}

/// Answers authorization questions; cheap to clone.
#[derive(Clone)]
pub struct Policy {
    pub(super) db: Db,
    caches: Caches,
    clock: Clock,
}

impl Policy {
    /// A policy reading through `caches` (the server's one set).
    pub fn new(db: Db, caches: Caches, clock: Clock) -> Self {
        Self { db, caches, clock }
    }

    /// The person's current role in a tenant, `None` when not a member.
    pub async fn role_in(&self, tenant_id: &str, user_id: &str) -> Result<Option<Role>> {
        let key = member_key(tenant_id, user_id);
        let role = self
            .caches
            .members()
            .get_or_load(key.as_str(), async {
                Ok::<_, AppError>(
                    storage::tenants::member_role(&self.db, tenant_id, user_id)
                        .await?
                        .as_deref()
                        .and_then(Role::parse),
                )
            })
            .await?;
        Ok(role)
    }

    /// Whether the account may use what it holds: it exists and is not disabled. Read through
    /// the users cache, which disabling invalidates (on every server), so a caller that is
    /// already cached costs no query.
    pub async fn account_active(&self, user_id: &str) -> Result<bool> {
        Ok(accounts::find_cached_in(&self.db, &self.caches, user_id)
            .await?
            .is_some_and(|u| u.is_active()))
    }

    /// Completes and narrows a freshly authenticated caller: whatever acts for a person stops
    /// working while their account is disabled; a token exchanged from a credential
    /// takes that credential's limits (allowlist, expiry, kind) and dies with it; an app's token
    /// learns whether the app is first-party; anything bound to a tenant is narrowed to its
    /// owner's live role there, and refused once the owner is no longer a member.
    pub async fn effective(
        &self,
        mut p: Principal,
        ip: Option<IpAddr>,
    ) -> Result<Principal, Refusal> {
        // Checked at use rather than revoked on disabling: enabling the account restores it.
        if let Some(user_id) = &p.user_id
            && !self
                .account_active(user_id)
                .await
                .map_err(Refusal::Failed)?
        {
            return Err(Refusal::AccountDisabled);
        }
        if p.exchanged {
            let id = p.credential_id.clone().unwrap_or_default();
            let c = self.credential(&id).await.map_err(Refusal::Failed)?;
            let c = c.ok_or(Refusal::Revoked)?;
            if c.revoked_at.is_some() {
                return Err(Refusal::Revoked);
            }
            if !c.allowed_ips.is_empty()
                && !ip.is_some_and(|ip| c.allowed_ips.iter().any(|n| n.contains(&ip)))
            {
                return Err(Refusal::IpNotAllowed);
            }
            p.origin = Origin::Credential(c.kind);
            p.expires_at = c.effective_expiry(None);
            p.allowed_ips = c.allowed_ips;
        }
        if let Origin::App { first_party } = &mut p.origin
            && let Some(id) = &p.client_id
        {
            *first_party = client::find_cached(&self.db, &self.caches, id)
                .await
                .map_err(Refusal::Failed)?
                .is_some_and(|c| c.flags.first_party);
        }
        if let (Some(tenant_id), Some(user_id)) = (&p.tenant_id, &p.user_id) {
            let role = self
                .role_in(tenant_id, user_id)
                .await
                .map_err(Refusal::Failed)?
                .ok_or(Refusal::NotMember)?;
            p.scopes = p.scopes.intersect(&role.scopes());
        }
        Ok(p)
    }

    /// Decides `action` for a caller in the tenant named by `raw` (`active` or an id). A caller
    /// bound to a tenant acts only there; an unbound one (a session, an app's token) in any
    /// tenant the person belongs to. A tenant the caller cannot see is `NotFound`.
    pub async fn authorize(&self, p: &Principal, raw: &str, action: Action) -> Result<Access> {
        let access = self.standing(p, raw, Some(action)).await?;
        decide(&access.principal, access.role, action)?;
        Ok(access)
    }

    /// The caller's standing in a tenant — role and narrowed scopes — without deciding an
    /// action (what `GET /api/v1/{tenant}/access` reports).
    pub async fn standing(
        &self,
        p: &Principal,
        raw: &str,
        action: Option<Action>,
    ) -> Result<Access> {
        let user = accounts::find_cached_in(&self.db, &self.caches, p.user_id()?)
            .await?
            .ok_or_else(|| AppError::Unauthenticated("The account no longer exists.".into()))?;
        let tenant = match (&p.tenant_id, raw) {
            (Some(bound), "active") => self.find_tenant(bound).await?,
            (Some(bound), id) if bound == id => self.find_tenant(bound).await?,
            (Some(_), _) => return Err(AppError::NotFound("Tenant")),
            (None, "active") => tenant::active_in(&self.db, &user, self.clock.now()).await?,
            (None, id) => self.find_tenant(id).await?,
        };
        let role = match self.role_in(&tenant.id, &user.id).await? {
            Some(role) => role,
            // Server administrators see and administer every tenant's members from their own
            // session (and nothing else there unless they are members).
            None if self.permits(Actor::User(&user), ServerAction::SeeEveryTenant)
                && p.origin == Origin::Session
                && matches!(action, Some(Action::ManageMembers | Action::Read)) =>
            {
                Role::Admin
            }
            None if p.tenant_id.is_some() => {
                return Err(AppError::Unauthenticated(
                    "The credential's owner is no longer a member of its tenant.".into(),
                ));
            }
            None => return Err(AppError::NotFound("Tenant")),
        };
        let mut principal = p.clone();
        principal.scopes = principal.scopes.intersect(&role.scopes());
        Ok(Access {
            user,
            tenant,
            role,
            principal,
        })
    }

    /// The person behind a caller, for what concerns their account itself (answering
    /// invitations): only the person's own session or a first-party credential with `admin`.
    pub async fn person(&self, p: &Principal) -> Result<User> {
        if !p.origin.is_first_party() || !p.granted.has("admin") {
            return Err(AppError::Forbidden(
                "Only your own session or one of your credentials with `admin` may do this.".into(),
            ));
        }
        accounts::find_cached_in(&self.db, &self.caches, p.user_id()?)
            .await?
            .ok_or_else(|| AppError::Unauthenticated("The account no longer exists.".into()))
    }

    /// The account a caller acts for, to read it (`GET /v1/users/me`): needs `read`.
    pub async fn own_account(&self, p: &Principal) -> Result<User> {
        if !p.scopes.has("read") {
            return Err(AppError::InsufficientScope("read"));
        }
        accounts::find_cached_in(&self.db, &self.caches, p.user_id()?)
            .await?
            .ok_or(AppError::NotFound("User"))
    }

    /// `authorize` for the person's own browser session.
    pub async fn authorize_session(
        &self,
        user: &User,
        raw: &str,
        action: Action,
    ) -> Result<Access> {
        self.authorize(&Principal::session(user), raw, action).await
    }

    /// A membership changed: judge every cached role again.
    pub fn membership_changed(&self) {
        self.caches.invalidate(Stale::MEMBERS);
    }

    async fn find_tenant(&self, id: &str) -> Result<Tenant> {
        storage::tenants::find_tenant(&self.db, id)
            .await?
            .ok_or(AppError::NotFound("Tenant"))
    }

    async fn credential(&self, id: &str) -> Result<Option<Credential>> {
        self.caches
            .credential_ids()
            .get_or_load(id, storage::credentials::find_by_id(&self.db, id))
            .await
    }
}

fn member_key(tenant_id: &str, user_id: &str) -> String {
    let mut key = String::with_capacity(tenant_id.len() + user_id.len() + 1);
    key.push_str(tenant_id);
    key.push('|');
    key.push_str(user_id);
    key
}
