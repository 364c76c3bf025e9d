//! System credentials (seed 001): a tenant's machine credentials, a client id and secret whose
//! access is limited by roles. They are OAuth clients of kind `system` with the client-credentials
//! grant, so they work at `/oauth/token` as well as `/api/v0/login`. Only the tenant's
//! administrators manage them; the secret is returned only at creation.

use serde_json::json;

use crate::domain::audit::AuditEvent;
use crate::domain::client::{Client, ClientFlags, ClientKind, GrantType};
use crate::domain::policy::{Access, Action, Policy};
use crate::domain::principal::Principal;
use crate::domain::roles::{self, RoleAssignment};
use crate::domain::scope::{SCOPES, ScopeSet};
use crate::domain::secret_format::{self, Kind};
use crate::domain::tenant::Tenant;
use crate::domain::user::{DisplayName, User};
use crate::error::{AppError, Result};
use crate::runtime::audit_writer::Auditor;
use crate::secret::{ClientSecret, SecretHasher};
use crate::storage::{self, Db};

/// The caller's active tenant, provided the policy lets them manage its system credentials.
pub async fn admin_tenant(policy: &Policy, principal: &Principal) -> Result<Access> {
    policy
        .authorize(principal, "active", Action::ManageSystemCredentials)
        .await
}

/// The signed-in person's active tenant, provided they may manage its system credentials.
pub async fn require_admin(policy: &Policy, user: &User) -> Result<Access> {
    policy
        .authorize_session(user, "active", Action::ManageSystemCredentials)
        .await
}

fn validate_name(raw: &str) -> Result<String> {
    DisplayName::parse(raw)
        .map(|n| n.as_str().to_owned())
        .map_err(|e| AppError::validation("name", e.to_string()))
}

/// Creates a system credential; the secret exists only in the return value.
pub async fn create(
    db: &Db,
    hasher: &SecretHasher,
    by: &Acting<'_>,
    access: &Access,
    name: &str,
    roles: Option<Vec<RoleAssignment>>,
) -> Result<(Client, ClientSecret)> {
    // A system credential has no expiry, allowlist or test mode: only an unrestricted caller
    // may create one.
    access.ceiling().admit_unrestricted("a system credential")?;
    let tenant = &access.tenant;
    let name = validate_name(name)?;
    let roles = roles::validate_all(roles.unwrap_or_default())?;
    let secret = ClientSecret::new(secret_format::generate(Kind::SystemSecret));
    let all = SCOPES.iter().map(|(s, _)| *s).collect::<Vec<_>>().join(" ");
    let client = Client {
        id: format!("sys_{}", uuid::Uuid::new_v4().simple()),
        owner_id: None,
        name,
        redirect_uris: Vec::new(),
        scopes: ScopeSet::parse(&all)?,
        grant_types: vec![GrantType::ClientCredentials],
        is_public: false,
        secret_hash: Some(hasher.hash(secret.expose())),
        created_at: 0,
        kind: ClientKind::System,
        tenant_id: Some(tenant.id.clone()),
        roles,
        flags: ClientFlags::default(),
    };
    let client = storage::clients::insert_client(db, &client).await?;
    record(
        by,
        "system_credential.created",
        &client,
        json!({"roles": client.roles, "full_access": client.roles.is_empty()}),
    );
    Ok((client, secret))
}

/// The tenant's system credentials.
pub async fn list(db: &Db, tenant: &Tenant) -> Result<Vec<Client>> {
    storage::clients::list_system(db, &tenant.id).await
}

/// One of the tenant's system credentials; another tenant's is `NotFound`.
pub async fn get(db: &Db, tenant: &Tenant, client_id: &str) -> Result<Client> {
    match storage::clients::find_client(db, client_id).await? {
        Some(c)
            if c.kind == ClientKind::System
                && c.tenant_id.as_deref() == Some(tenant.id.as_str()) =>
        {
            Ok(c)
        }
        _ => Err(AppError::NotFound("System credential")),
    }
}

/// The outcome of an update.
pub struct Updated {
    /// The credential after the update.
    pub client: Client,
    /// The update left it with no roles while it had some: it now has full access.
    pub granted_full_access: bool,
}

/// Seed 001's update: a new name if given; roles per `roles::apply_update`.
pub async fn update(
    db: &Db,
    by: &Acting<'_>,
    tenant: &Tenant,
    client_id: &str,
    name: Option<&str>,
    new_roles: Option<Vec<RoleAssignment>>,
    context: Option<&str>,
) -> Result<Updated> {
    let mut client = get(db, tenant, client_id).await?;
    let name = match name {
        Some(n) => validate_name(n)?,
        None => client.name.clone(),
    };
    let roles = roles::apply_update(&client.roles, new_roles, context)?;
    let granted_full_access = roles.is_empty() && !client.roles.is_empty();
    storage::clients::update_name_and_roles(db, &client.id, &name, &roles).await?;
    by.caches.clients().invalidate();
    if granted_full_access {
        tracing::warn!(client_id = %client.id, tenant_id = %tenant.id, "system credential update left no roles: it now has full access");
    }
    client.name = name;
    client.roles = roles;
    let detail = json!({
        "roles": client.roles,
        "full_access": client.roles.is_empty(),
        "granted_full_access": granted_full_access,
        "roles_context": context,
    });
    record(by, "system_credential.updated", &client, detail);
    Ok(Updated {
        client,
        granted_full_access,
    })
}

/// Deletes one; it stops working at once, and so do the tokens it obtained.
pub async fn delete(db: &Db, by: &Acting<'_>, tenant: &Tenant, client_id: &str) -> Result<()> {
    let client = get(db, tenant, client_id).await?;
    storage::clients::delete_client(db, &client.id).await?;
    by.caches.clients().invalidate();
    record(by, "system_credential.deleted", &client, json!({}));
    Ok(())
}

/// Who acts on system credentials, and what their changes must reach: the audit log, and the
/// caches that would otherwise keep serving the old client.
pub struct Acting<'a> {
    /// Where events go.
    pub auditor: &'a Auditor,
    /// Invalidated on every change.
    pub caches: &'a crate::runtime::cache::Caches,
    /// The administrator.
    pub user_id: &'a str,
}

fn record(by: &Acting<'_>, event_type: &str, client: &Client, detail: serde_json::Value) {
    by.auditor.record(
        AuditEvent::here(event_type)
            .by("user", by.user_id)
            .tenant(client.tenant_id.as_deref())
            .target(format!("system_credential:{}", client.id))
            .detail(detail),
    );
}
