//! Long-lived credentials people create for scripts and integrations: API keys, personal access
//! tokens (`sk-`), the personal token and the account secret key. One model for all: a keyed
//! hash of the secret, a display prefix, permissions, optional expiry and IP allowlist.
//!
//! Verifying one costs a checksum check, one HMAC and one indexed lookup; "last used" is
//! recorded in memory and written in batches (`LastUsed`), never once per request.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::domain::credential::{self, Kind};
use crate::domain::policy::{Access, Action, Policy};
use crate::domain::principal::Principal;
use crate::domain::scope::ScopeSet;
use crate::domain::user::DisplayName;
use crate::error::{AppError, Result};
use crate::runtime::cache::Caches;
use crate::runtime::last_used::LastUsed;
use crate::secret::SecretHasher;
use crate::storage::{self, Db};

const DAY: i64 = 86_400;
/// The personal token dies after this long without use...
pub const PERSONAL_TOKEN_IDLE: i64 = 30 * DAY;
/// ...and at the latest this long after creation.
pub const PERSONAL_TOKEN_MAX: i64 = 90 * DAY;

/// What sort of credential a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// `ck_live_` / `ck_test_`.
    ApiKey,
    /// `sk-`.
    PersonalAccessToken,
    /// `pt_`, one per person.
    PersonalToken,
    /// `usk_`, one per person.
    SecretKey,
}

impl CredentialKind {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApiKey => "api_key",
            Self::PersonalAccessToken => "personal_access_token",
            Self::PersonalToken => "personal_token",
            Self::SecretKey => "secret_key",
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::ApiKey,
            Self::PersonalAccessToken,
            Self::PersonalToken,
            Self::SecretKey,
        ]
        .into_iter()
        .find(|k| k.as_str() == raw)
    }

    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            Self::ApiKey => "API key",
            Self::PersonalAccessToken => "Personal access token",
            Self::PersonalToken => "Personal token",
            Self::SecretKey => "Account secret key",
        }
    }

    fn of_secret(kind: Kind) -> Option<Self> {
        match kind {
            Kind::ApiKeyLive | Kind::ApiKeyTest => Some(Self::ApiKey),
            Kind::PersonalAccessToken => Some(Self::PersonalAccessToken),
            Kind::PersonalToken => Some(Self::PersonalToken),
            Kind::AccountSecretKey => Some(Self::SecretKey),
            Kind::ClientSecret | Kind::SystemSecret => None,
        }
    }
}

/// API-key environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// Production.
    Live,
    /// Sandbox: tokens carry `env: "test"` so services keep its data apart.
    Test,
}

impl Environment {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Test => "test",
        }
    }

    /// Parses a wire name.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "live" => Some(Self::Live),
            "test" => Some(Self::Test),
            _ => None,
        }
    }
}

/// A stored credential (never its secret).
#[derive(Debug, Clone)]
pub struct Credential {
    /// UUID.
    pub id: String,
    /// Owner.
    pub user_id: Option<String>,
    /// The one tenant it acts in.
    pub tenant_id: String,
    /// Kind.
    pub kind: CredentialKind,
    /// Name chosen by the owner.
    pub name: String,
    /// Public prefix for display (`ck_live_AbCd`).
    pub prefix: String,
    /// For API keys: among read, write, delete, admin.
    pub permissions: ScopeSet,
    /// For API keys.
    pub environment: Option<Environment>,
    /// Fixed expiry, Unix seconds.
    pub expires_at: Option<i64>,
    /// Allowed source networks; empty means anywhere.
    pub allowed_ips: Vec<IpNet>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub last_used_at: Option<i64>,
    /// Source address of the last use.
    pub last_used_ip: Option<String>,
    /// Unix seconds.
    pub revoked_at: Option<i64>,
}

impl Credential {
    /// Personal tokens, `sk-` tokens and secret keys act fully as their owner; API keys only
    /// with their permissions.
    pub fn acts_as_user(&self) -> bool {
        self.kind != CredentialKind::ApiKey
    }

    /// What the credential may do, as scopes.
    pub fn scopes(&self) -> ScopeSet {
        if self.acts_as_user() {
            ScopeSet::all()
        } else {
            self.permissions.clone()
        }
    }

    /// The latest it can ever stop working: the personal token's expiry slides with use, but
    /// never past its maximum lifetime.
    pub fn latest_expiry(&self) -> Option<i64> {
        match self.kind {
            CredentialKind::PersonalToken => Some(self.created_at + PERSONAL_TOKEN_MAX),
            _ => self.expires_at,
        }
    }

    /// When it stops working, as of now: the personal token's moves with use (30 days after the
    /// last use, never past 90 days after creation).
    pub fn effective_expiry(&self, last_used: Option<i64>) -> Option<i64> {
        match self.kind {
            CredentialKind::PersonalToken => {
                let since = last_used
                    .or(self.last_used_at)
                    .unwrap_or(self.created_at)
                    .max(self.created_at);
                Some((since + PERSONAL_TOKEN_IDLE).min(self.created_at + PERSONAL_TOKEN_MAX))
            }
            _ => self.expires_at,
        }
    }
}

/// A credential with its secret, which exists only in this value (shown once).
#[derive(Debug)]
pub struct Issued {
    /// The stored record.
    pub credential: Credential,
    /// The secret.
    pub secret: crate::secret::CredentialSecret,
}

/// Why a presented credential was refused.
#[derive(Debug)]
pub enum Refusal {
    /// Malformed, bad checksum, unknown.
    Invalid,
    /// Past its expiry.
    Expired,
    /// Revoked.
    Revoked,
    /// From an address outside its allowlist.
    IpNotAllowed,
    /// Its owner is no longer a member of its tenant.
    NotMember,
    /// Storage failed.
    Failed(AppError),
}

/// Input of a new API key.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewApiKey {
    /// 1–100 characters.
    #[serde(default)]
    pub name: String,
    /// Among read, write, delete, admin; at least one.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// `live` (default) or `test`.
    #[serde(default)]
    pub environment: Option<String>,
    /// ISO-8601, in the future.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Addresses and CIDR ranges, IPv4 or IPv6.
    #[serde(default)]
    pub allowed_ips: Option<Vec<String>>,
}

/// Credential operations; cheap to clone.
#[derive(Clone)]
pub struct CredentialService {
    db: Db,
    caches: Caches,
    hasher: SecretHasher,
    clock: Clock,
    last_used: LastUsed,
    auditor: Option<crate::runtime::audit_writer::Auditor>,
    policy: Policy,
}

/// Who did it, for the audit log: the credential acting, or the person.
fn actor_of(p: &Principal) -> (&'static str, &str) {
    match (&p.credential_id, &p.user_id, &p.client_id) {
        (Some(cid), _, _) => ("credential", cid),
        (None, Some(uid), _) => ("user", uid),
        (None, None, Some(client)) => ("client", client),
        (None, None, None) => ("anonymous", ""),
    }
}

/// Parses an ISO-8601 (RFC 3339) time that must lie in the future.
pub fn parse_future(field: &'static str, raw: &str, now: i64) -> Result<i64> {
    let t = time::OffsetDateTime::parse(raw.trim(), &time::format_description::well_known::Rfc3339)
        .or_else(|_| {
            time::OffsetDateTime::parse(
                raw.trim(),
                &time::format_description::well_known::Iso8601::DEFAULT,
            )
        })
        .map_err(|_| {
            AppError::validation(
                field,
                "Use an ISO-8601 date and time, e.g. 2030-12-31T23:59:59Z.",
            )
        })?;
    let at = t.unix_timestamp();
    if at <= now {
        return Err(AppError::validation(
            field,
            "The date must be in the future.",
        ));
    }
    Ok(at)
}

/// Formats Unix seconds as RFC 3339 UTC.
pub fn format_time(at: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Parses an allowlist: single addresses and CIDR ranges, IPv4 and IPv6.
pub fn parse_networks(raw: &[String]) -> Result<Vec<IpNet>> {
    raw.iter()
        .map(|s| {
            let s = s.trim();
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    AppError::validation(
                        "allowed_ips",
                        format!("Not an IP address or CIDR range: {s}"),
                    )
                })
        })
        .collect()
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
            policy: Policy::new(db.clone(), caches.clone()),
            db,
            caches,
            hasher,
            clock,
            last_used,
            auditor: None,
        }
    }

    /// Writes the gathered last-use times. Cached credentials carry the last-use time they were
    /// read with, so they are dropped before the times leave memory.
    pub async fn flush_last_used(&self) -> Result<()> {
        let batch = self.last_used.snapshot();
        if batch.is_empty() {
            return Ok(());
        }
        storage::credentials::record_last_used(&self.db, &batch).await?;
        self.caches.credentials().invalidate();
        self.caches.credential_ids().invalidate();
        self.last_used.forget_written(&batch);
        Ok(())
    }

    /// Records credential events in this audit log.
    pub fn with_auditor(mut self, auditor: crate::runtime::audit_writer::Auditor) -> Self {
        self.auditor = Some(auditor);
        self
    }

    fn audit(&self, event_type: &str, c: &Credential, actor: Option<(&str, &str)>) {
        if let Some(a) = &self.auditor {
            let (kind, id) = actor.unwrap_or(("user", c.user_id.as_deref().unwrap_or_default()));
            a.record(
                crate::domain::audit::AuditEvent::here(event_type)
                    .by(kind, id)
                    .about(c.user_id.as_deref())
                    .tenant(Some(&c.tenant_id))
                    .target(format!("credential:{}", c.id))
                    .detail(serde_json::json!({"kind": c.kind.as_str(), "name": c.name, "prefix": c.prefix})),
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

    /// Stores a new credential after checking it against the creator's ceiling: nothing is
    /// created stronger than what creates it.
    async fn issue(&self, access: &Access, secret_kind: Kind, mut c: Credential) -> Result<Issued> {
        access.ceiling().admit(&c)?;
        let secret = credential::generate(secret_kind);
        c.prefix = credential::display_prefix(&secret, secret_kind);
        storage::credentials::insert_credential(&self.db, &c, &self.hasher.hash(&secret)).await?;
        self.audit("credential.created", &c, Some(actor_of(&access.principal)));
        Ok(Issued {
            credential: c,
            secret: crate::secret::CredentialSecret::new(secret),
        })
    }

    fn blank(&self, access: &Access, kind: CredentialKind, name: String) -> Credential {
        Credential {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: Some(access.user.id.clone()),
            tenant_id: access.tenant.id.clone(),
            kind,
            name,
            prefix: String::new(),
            permissions: ScopeSet::default(),
            environment: None,
            expires_at: None,
            allowed_ips: Vec::new(),
            created_at: self.clock.now(),
            last_used_at: None,
            last_used_ip: None,
            revoked_at: None,
        }
    }

    /// The caller's right to manage their own credentials in the tenant named by `tenant`.
    async fn manage_own(&self, caller: &Principal, tenant: &str) -> Result<Access> {
        self.policy
            .authorize(caller, tenant, Action::ManageOwnCredentials)
            .await
    }

    /// Creates an API key for the caller in `tenant` (`active` or an id).
    pub async fn create_api_key(
        &self,
        caller: &Principal,
        tenant: &str,
        new: NewApiKey,
    ) -> Result<Issued> {
        let access = self.manage_own(caller, tenant).await?;
        let name = DisplayName::parse(&new.name)
            .map_err(|e| AppError::validation("name", e.to_string()))?;
        if new.permissions.is_empty() {
            return Err(AppError::validation(
                "permissions",
                "Choose at least one of read, write, delete, admin.",
            ));
        }
        for p in &new.permissions {
            if !["read", "write", "delete", "admin"].contains(&p.as_str()) {
                return Err(AppError::validation(
                    "permissions",
                    format!("Unknown permission: {p}"),
                ));
            }
        }
        let permissions = ScopeSet::parse(&new.permissions.join(" "))
            .map_err(|e| AppError::validation("permissions", e.to_string()))?;
        let env = match new.environment.as_deref() {
            None | Some("") => Environment::Live,
            Some(raw) => Environment::parse(raw)
                .ok_or_else(|| AppError::validation("environment", "Use live or test."))?,
        };
        let expires_at = match new.expires_at.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(raw) => Some(parse_future("expires_at", raw, self.clock.now())?),
            None => None,
        };
        let mut c = self.blank(&access, CredentialKind::ApiKey, name.as_str().to_owned());
        c.permissions = permissions;
        c.environment = Some(env);
        c.expires_at = expires_at;
        c.allowed_ips = parse_networks(new.allowed_ips.as_deref().unwrap_or_default())?;
        let kind = if env == Environment::Test {
            Kind::ApiKeyTest
        } else {
            Kind::ApiKeyLive
        };
        self.issue(&access, kind, c).await
    }

    /// Creates a personal access token (`sk-`), valid until `expiry` (ISO-8601, future).
    pub async fn create_pat(
        &self,
        caller: &Principal,
        tenant: &str,
        name: &str,
        expiry: &str,
    ) -> Result<Issued> {
        let access = self.manage_own(caller, tenant).await?;
        let trimmed =
            DisplayName::parse(name).map_err(|e| AppError::validation("name", e.to_string()))?;
        let expires_at = parse_future("expiry_date", expiry, self.clock.now())?;
        let mut c = self.blank(
            &access,
            CredentialKind::PersonalAccessToken,
            trimmed.as_str().to_owned(),
        );
        c.expires_at = Some(expires_at);
        self.issue(&access, Kind::PersonalAccessToken, c).await
    }

    /// Creates the personal token, replacing (and so invalidating) any previous one.
    pub async fn regenerate_personal_token(
        &self,
        caller: &Principal,
        tenant: &str,
    ) -> Result<Issued> {
        let access = self.manage_own(caller, tenant).await?;
        let c = self.blank(
            &access,
            CredentialKind::PersonalToken,
            "Personal token".into(),
        );
        // Checked before the old one goes, so a refused caller leaves it working.
        access.ceiling().admit(&c)?;
        let replaced = storage::credentials::revoke(
            &self.db,
            &access.user.id,
            CredentialKind::PersonalToken,
            None,
            None,
            self.clock.now(),
        )
        .await?;
        self.revoked_some();
        let issued = self.issue(&access, Kind::PersonalToken, c).await?;
        if replaced > 0 {
            self.audit("credential.rotated", &issued.credential, None);
        }
        Ok(issued)
    }

    /// Creates the account secret key; `Conflict` if one exists.
    pub async fn generate_secret_key(&self, caller: &Principal, tenant: &str) -> Result<Issued> {
        let access = self.manage_own(caller, tenant).await?;
        if !self
            .list(&access.user.id, None, CredentialKind::SecretKey)
            .await?
            .is_empty()
        {
            return Err(AppError::Conflict(
                "A secret key already exists. Delete it first to generate a new one.".into(),
            ));
        }
        let c = self.blank(
            &access,
            CredentialKind::SecretKey,
            "Account secret key".into(),
        );
        self.issue(&access, Kind::AccountSecretKey, c).await
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
    fn revoked_some(&self) {
        self.caches.credentials().invalidate();
        self.caches.credential_ids().invalidate();
        self.caches.revoked().invalidate();
    }

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
    pub async fn verify(&self, secret: &str, ip: Option<IpAddr>) -> Result<Credential, Refusal> {
        let c = self.inspect(secret).await?;
        let now = self.clock.now();
        if let Some(ip) = ip
            && !c.allowed_ips.is_empty()
            && !c.allowed_ips.iter().any(|n| n.contains(&ip))
        {
            return Err(Refusal::IpNotAllowed);
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
        let kind = credential::check(secret).map_err(|_| Refusal::Invalid)?;
        CredentialKind::of_secret(kind).ok_or(Refusal::Invalid)?;
        let c = self.find_by_secret(secret).await?;
        if c.revoked_at.is_some() {
            return Err(Refusal::Revoked);
        }
        if c.effective_expiry(self.last_used.pending(&c.id))
            .is_some_and(|exp| exp <= self.clock.now())
        {
            return Err(Refusal::Expired);
        }
        Ok(c)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn personal(created: i64, last: Option<i64>) -> Credential {
        Credential {
            id: "c".into(),
            user_id: None,
            tenant_id: "t".into(),
            kind: CredentialKind::PersonalToken,
            name: "p".into(),
            prefix: "pt_".into(),
            permissions: ScopeSet::default(),
            environment: None,
            expires_at: None,
            allowed_ips: vec![],
            created_at: created,
            last_used_at: last,
            last_used_ip: None,
            revoked_at: None,
        }
    }

    #[test]
    fn personal_token_expiry_moves_with_use_but_never_past_ninety_days() {
        let c = personal(0, None);
        assert_eq!(c.effective_expiry(None), Some(30 * DAY));
        assert_eq!(c.effective_expiry(Some(10 * DAY)), Some(40 * DAY));
        assert_eq!(c.effective_expiry(Some(80 * DAY)), Some(90 * DAY));
    }

    #[test]
    fn future_dates_are_required() {
        assert!(parse_future("f", "2999-01-01T00:00:00Z", 0).is_ok());
        assert!(parse_future("f", "2000-01-01T00:00:00Z", 1_900_000_000).is_err());
        assert!(parse_future("f", "tomorrow", 0).is_err());
    }

    #[test]
    fn networks_accept_addresses_and_ranges_of_both_families() {
        let nets = parse_networks(&[
            "10.0.0.0/8".into(),
            "192.0.2.7".into(),
            "2001:db8::/32".into(),
            "::1".into(),
        ])
        .unwrap();
        assert!(nets[0].contains(&"10.1.2.3".parse::<IpAddr>().unwrap()));
        assert!(nets[1].contains(&"192.0.2.7".parse::<IpAddr>().unwrap()));
        assert!(nets[2].contains(&"2001:db8::5".parse::<IpAddr>().unwrap()));
        assert!(parse_networks(&["10.0.0.0/33".into()]).is_err());
        assert!(parse_networks(&["example.com".into()]).is_err());
    }
}
