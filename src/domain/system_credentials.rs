//! System credentials (seed 001): a tenant's machine credentials, a client id and secret whose
//! access is limited by roles. They are OAuth clients of kind `system` with the client-credentials
//! grant, so they work at `/oauth/token` as well as `/api/v0/login`. Only the tenant's
//! administrators manage them; the secret is returned only at creation.

use serde_json::json;

use crate::domain::audit::AuditEvent;
use crate::domain::client::{Client, ClientFlags, ClientKind, GrantType};
use crate::domain::context::Context;
use crate::domain::policy::{Access, Action};
use crate::domain::principal::Principal;
use crate::domain::roles::{self, RoleAssignment};
use crate::domain::scope::ScopeSet;
use crate::domain::secret_format::{self, Kind};
use crate::domain::secret_rotation::{self, Overlap};
use crate::domain::tenant::Tenant;
use crate::domain::user::DisplayName;
use crate::error::{AppError, FieldErrors, Result};
use crate::runtime::invalidation::Stale;
use crate::secret::ClientSecret;
use crate::storage;

/// The caller's active tenant, provided the policy lets them manage its system credentials.
async fn manage(ctx: &Context, caller: &Principal) -> Result<Access> {
    ctx.policy()
        .authorize(caller, "active", Action::ManageSystemCredentials)
        .await
}

fn validate_name(raw: &str) -> Result<String> {
    DisplayName::parse(raw)
        .map(|n| n.as_str().to_owned())
        .map_err(|e| AppError::validation("name", e.to_string()))
}

/// Creates a system credential in the caller's active tenant; the secret exists only in the
/// return value.
pub async fn create(
    ctx: &Context,
    caller: &Principal,
    name: &str,
    roles: Option<Vec<RoleAssignment>>,
) -> Result<(Client, ClientSecret)> {
    let access = &manage(ctx, caller).await?;
    // A system credential has no expiry, allowlist or test mode: only an unrestricted caller
    // may create one.
    access.ceiling().admit_unrestricted("a system credential")?;
    let tenant = &access.tenant;
    // Both fields are checked before either is refused, so the answer names each bad one.
    let mut errors = FieldErrors::default();
    let name = errors.take(validate_name(name))?;
    let roles = errors.take(roles::validate_all(roles.unwrap_or_default()))?;
    errors.finish()?;
    let (Some(name), Some(roles)) = (name, roles) else {
        return Err(AppError::internal(anyhow::anyhow!(
            "a checked field is missing"
        )));
    };
    let secret = ClientSecret::new(secret_format::generate(Kind::SystemSecret));
    let client = Client {
        id: format!("sys_{}", uuid::Uuid::new_v4().simple()),
        owner_id: None,
        name,
        redirect_uris: Vec::new(),
        scopes: ScopeSet::all(),
        grant_types: vec![GrantType::ClientCredentials],
        is_public: false,
        secret_hash: Some(ctx.hasher().hash(secret.expose())),
        created_at: 0,
        kind: ClientKind::System,
        tenant_id: Some(tenant.id.clone()),
        roles,
        flags: ClientFlags::default(),
        oidc: Default::default(),
        profile: Default::default(),
        previous_secret: None,
        // Nothing sets another format for system credentials: their tokens are JWTs.
        access_token_format: Default::default(),
    };
    let client = storage::clients::insert_client(ctx.db(), &client, ctx.now()).await?;
    tracing::info!(client_id = %client.id, tenant_id = %tenant.id, user_id = %access.user.id, "system credential created");
    record(
        ctx,
        access,
        "system_credential.created",
        &client,
        json!({"roles": client.roles, "full_access": client.roles.is_empty()}),
    );
    Ok((client, secret))
}

/// The caller's active tenant and its system credentials.
pub async fn list(ctx: &Context, caller: &Principal) -> Result<(Tenant, Vec<Client>)> {
    let access = manage(ctx, caller).await?;
    let list = storage::clients::list_system(ctx.db(), &access.tenant.id).await?;
    Ok((access.tenant, list))
}

/// One of the caller's active tenant's system credentials; another tenant's is `NotFound`.
pub async fn get(ctx: &Context, caller: &Principal, client_id: &str) -> Result<Client> {
    let access = manage(ctx, caller).await?;
    find(ctx, &access.tenant, client_id).await
}

async fn find(ctx: &Context, tenant: &Tenant, client_id: &str) -> Result<Client> {
    match storage::clients::find_client(ctx.db(), client_id).await? {
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
    ctx: &Context,
    caller: &Principal,
    client_id: &str,
    name: Option<&str>,
    new_roles: Option<Vec<RoleAssignment>>,
    context: Option<&str>,
) -> Result<Updated> {
    let access = &manage(ctx, caller).await?;
    let tenant = &access.tenant;
    let mut client = find(ctx, tenant, client_id).await?;
    let name = match name {
        Some(n) => validate_name(n)?,
        None => client.name.clone(),
    };
    let roles = roles::apply_update(&client.roles, new_roles, context)?;
    let granted_full_access = roles.is_empty() && !client.roles.is_empty();
    storage::clients::update_name_and_roles(ctx.db(), &client.id, &name, &roles, ctx.now()).await?;
    ctx.caches().invalidate(Stale::CLIENTS);
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
    tracing::info!(client_id = %client.id, user_id = %access.user.id, full_access = client.roles.is_empty(), "system credential updated");
    record(ctx, access, "system_credential.updated", &client, detail);
    Ok(Updated {
        client,
        granted_full_access,
    })
}

/// Gives one a new secret; with an overlap the current secret keeps working until it ends
/// (`domain::secret_rotation`). The new secret exists only in the return value.
pub async fn rotate_secret(
    ctx: &Context,
    caller: &Principal,
    client_id: &str,
    overlap: Overlap,
) -> Result<(Client, ClientSecret)> {
    let access = &manage(ctx, caller).await?;
    // As at creation: a restricted caller does not mint a full machine secret.
    access.ceiling().admit_unrestricted("a system credential")?;
    let client = find(ctx, &access.tenant, client_id).await?;
    let (client, secret) = secret_rotation::rotate(ctx, client, overlap).await?;
    tracing::info!(client_id = %client.id, user_id = %access.user.id, "system credential secret rotated");
    let until = client.previous_secret.as_ref().map(|p| p.until);
    record(
        ctx,
        access,
        "system_credential.secret_rotated",
        &client,
        json!({"previous_valid_until": until}),
    );
    Ok((client, secret))
}

/// Deletes one; it stops working at once, and so do the tokens it obtained.
pub async fn delete(ctx: &Context, caller: &Principal, client_id: &str) -> Result<()> {
    let access = &manage(ctx, caller).await?;
    let client = find(ctx, &access.tenant, client_id).await?;
    storage::clients::delete_client(ctx.db(), &client.id).await?;
    ctx.caches().invalidate(Stale::CLIENTS);
    tracing::info!(client_id = %client.id, user_id = %access.user.id, "system credential deleted");
    record(ctx, access, "system_credential.deleted", &client, json!({}));
    Ok(())
}

/// Records a change made by the administrator behind `access`.
fn record(
    ctx: &Context,
    access: &Access,
    event_type: &str,
    client: &Client,
    detail: serde_json::Value,
) {
    ctx.record(
        AuditEvent::here(event_type)
            .by("user", &access.user.id)
            .tenant(client.tenant_id.as_deref())
            .target(format!("system_credential:{}", client.id))
            .detail(detail),
    );
}
