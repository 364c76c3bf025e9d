//! Creating each kind of credential: API keys, personal access tokens, the personal token and
//! the account secret key. Every new credential passes the creator's `Ceiling` first, so nothing
//! is created stronger than what creates it. Listing, revoking and checking live elsewhere.

use serde::Deserialize;

use super::model::{Credential, CredentialKind, Environment, Issued};
use super::parse::{parse_future, parse_networks};
use super::service::{CredentialService, actor_of};
use crate::domain::policy::{Access, Action};
use crate::domain::principal::Principal;
use crate::domain::scope::ScopeSet;
use crate::domain::secret_format::{self, Kind};
use crate::domain::user::DisplayName;
use crate::error::{AppError, FieldErrors, Result};
use crate::storage;

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

/// An API key's permissions: at least one, each of read, write, delete, admin.
fn api_key_permissions(asked: &[String]) -> Result<ScopeSet> {
    if asked.is_empty() {
        return Err(AppError::validation(
            "permissions",
            "Choose at least one of read, write, delete, admin.",
        ));
    }
    if let Some(p) = asked
        .iter()
        .find(|p| !["read", "write", "delete", "admin"].contains(&p.as_str()))
    {
        return Err(AppError::validation(
            "permissions",
            format!("Unknown permission: {p}"),
        ));
    }
    ScopeSet::parse(&asked.join(" "))
        .map_err(|e| AppError::validation("permissions", e.to_string()))
}

impl CredentialService {
    /// Stores a new credential after checking it against the creator's ceiling: nothing is
    /// created stronger than what creates it.
    pub(super) async fn issue(
        &self,
        access: &Access,
        secret_kind: Kind,
        mut c: Credential,
    ) -> Result<Issued> {
        access.ceiling().admit(&c)?;
        let secret = secret_format::generate(secret_kind);
        c.prefix = secret_format::display_prefix(&secret, secret_kind);
        storage::credentials::insert_credential(&self.db, &c, &self.hasher.hash(&secret)).await?;
        self.audit("credential.created", &c, Some(actor_of(&access.principal)));
        Ok(Issued {
            credential: c,
            secret: crate::secret::CredentialSecret::new(secret),
        })
    }

    pub(super) fn blank(&self, access: &Access, kind: CredentialKind, name: String) -> Credential {
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
    pub(super) async fn manage_own(&self, caller: &Principal, tenant: &str) -> Result<Access> {
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
        // Every bad field is reported, not only the first.
        let mut errors = FieldErrors::default();
        let name = errors.take(
            DisplayName::parse(&new.name).map_err(|e| AppError::validation("name", e.to_string())),
        )?;
        let permissions = errors.take(api_key_permissions(&new.permissions))?;
        let env = errors.take(match new.environment.as_deref() {
            None | Some("") => Ok(Environment::Live),
            Some(raw) => Environment::parse(raw)
                .ok_or_else(|| AppError::validation("environment", "Use live or test.")),
        })?;
        let expires_at = errors.take(
            match new.expires_at.as_deref().filter(|s| !s.trim().is_empty()) {
                Some(raw) => parse_future("expires_at", raw, self.clock.now()).map(Some),
                None => Ok(None),
            },
        )?;
        let allowed_ips = errors.take(parse_networks(
            new.allowed_ips.as_deref().unwrap_or_default(),
        ))?;
        errors.finish()?;
        let (Some(name), Some(permissions), Some(env), Some(expires_at), Some(allowed_ips)) =
            (name, permissions, env, expires_at, allowed_ips)
        else {
            return Err(AppError::internal(anyhow::anyhow!(
                "a checked field is missing"
            )));
        };
        let mut c = self.blank(&access, CredentialKind::ApiKey, name.as_str().to_owned());
        c.permissions = permissions;
        c.environment = Some(env);
        c.expires_at = expires_at;
        c.allowed_ips = allowed_ips;
        let kind = if env == Environment::Test {
            Kind::ApiKeyTest
        } else {
            Kind::ApiKeyLive
        };
        self.issue(&access, kind, c).await
    }

    /// Creates a personal access token (`sk-`), valid until `expiry` (ISO-8601, future), or
    /// for good when `expiry` is `None` (the page offers it with a warning, as GitHub does; the
    /// API always names a date).
    pub async fn create_pat(
        &self,
        caller: &Principal,
        tenant: &str,
        name: &str,
        expiry: Option<&str>,
    ) -> Result<Issued> {
        let access = self.manage_own(caller, tenant).await?;
        let mut errors = FieldErrors::default();
        let trimmed = errors.take(
            DisplayName::parse(name).map_err(|e| AppError::validation("name", e.to_string())),
        )?;
        let expires_at = errors.take(match expiry {
            Some(raw) => parse_future("expiry_date", raw, self.clock.now()).map(Some),
            None => Ok(None),
        })?;
        errors.finish()?;
        let (Some(trimmed), Some(expires_at)) = (trimmed, expires_at) else {
            return Err(AppError::internal(anyhow::anyhow!(
                "a checked field is missing"
            )));
        };
        let mut c = self.blank(
            &access,
            CredentialKind::PersonalAccessToken,
            trimmed.as_str().to_owned(),
        );
        c.expires_at = expires_at;
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
}
