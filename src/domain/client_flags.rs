//! The flags only server administrators set on a registered app (`ClientFlags`): who may see
//! every app with its flags, and the one operation that changes them, which records
//! `client.flags_changed`. People who register apps under Settings → Developer apps never set
//! them: with open sign-up anyone can register an app, and either flag gives it trust over other
//! people's tokens or consent.

use serde_json::json;

use crate::domain::audit::AuditEvent;
use crate::domain::client::{self, Client, ClientFlags, ClientKind, NewClient, Registered};
use crate::domain::context::{Actor, Context};
use crate::domain::policy::ServerAction;
use crate::error::{AppError, Result};
use crate::runtime::invalidation::Stale;
use crate::storage;

/// Refuses anyone the policy does not let manage every app (the command line always may).
fn require(ctx: &Context, by: Actor<'_>) -> Result<()> {
    ctx.policy().authorize_server(by, ServerAction::ManageApps)
}

/// A change of flags: `None` keeps the current value.
#[derive(Debug, Clone, Copy, Default)]
pub struct FlagChange {
    /// New `resource_server`.
    pub resource_server: Option<bool>,
    /// New `first_party`.
    pub first_party: Option<bool>,
    /// New `require_second_factor`.
    pub require_second_factor: Option<bool>,
}

impl From<ClientFlags> for FlagChange {
    fn from(f: ClientFlags) -> Self {
        Self {
            resource_server: Some(f.resource_server),
            first_party: Some(f.first_party),
            require_second_factor: Some(f.require_second_factor),
        }
    }
}

/// Every registered app (never system credentials, which belong to tenants), for a server
/// administrator.
pub async fn all_apps(ctx: &Context, by: Actor<'_>) -> Result<Vec<Client>> {
    require(ctx, by)?;
    Ok(storage::clients::list_clients(ctx.db(), None)
        .await?
        .into_iter()
        .filter(|c| c.kind == ClientKind::App)
        .collect())
}

/// Refuses flags a client of this type cannot carry.
fn validate(public: bool, flags: ClientFlags) -> Result<()> {
    if public && flags.resource_server {
        // RFC 7662 §2.1: the introspection endpoint requires authentication, which a public
        // client cannot give.
        return Err(AppError::validation(
            "resource_server",
            "A public client cannot be a resource server: it has no secret to authenticate with.",
        ));
    }
    Ok(())
}

/// Changes a registered app's flags. Unknown ids and system credentials are `NotFound`; the audit
/// log records the change (nothing when nothing changed), with the app's owner as its subject so
/// it appears in their security log.
pub async fn set(
    ctx: &Context,
    by: Actor<'_>,
    client_id: &str,
    change: FlagChange,
) -> Result<Client> {
    require(ctx, by)?;
    let mut client = match storage::clients::find_client(ctx.db(), client_id).await? {
        Some(c) if c.kind == ClientKind::App => c,
        _ => return Err(AppError::NotFound("App")),
    };
    let flags = ClientFlags {
        resource_server: change
            .resource_server
            .unwrap_or(client.flags.resource_server),
        first_party: change.first_party.unwrap_or(client.flags.first_party),
        require_second_factor: change
            .require_second_factor
            .unwrap_or(client.flags.require_second_factor),
    };
    validate(client.is_public, flags)?;
    if client.flags == flags {
        return Ok(client);
    }
    storage::clients::update_flags(ctx.db(), &client.id, flags, ctx.now()).await?;
    // Token, introspection and authorization requests read clients through this cache.
    ctx.caches().invalidate(Stale::CLIENTS);
    ctx.record(
        by.stamp(AuditEvent::here("client.flags_changed"))
            .about(client.owner_id.as_deref())
            .target(format!("client:{}", client.id))
            .detail(json!({"from": client.flags, "to": flags})),
    );
    client.flags = flags;
    Ok(client)
}

/// Registers an app from the command line with its flags set from the start.
pub async fn register(ctx: &Context, new: NewClient, flags: ClientFlags) -> Result<Registered> {
    validate(new.public, flags)?;
    let mut reg = client::register(ctx, Actor::CommandLine, new).await?;
    reg.client = set(ctx, Actor::CommandLine, &reg.client.id, flags.into()).await?;
    Ok(reg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_client_cannot_be_a_resource_server_but_may_be_first_party() {
        let rs = ClientFlags {
            resource_server: true,
            ..ClientFlags::default()
        };
        let fp = ClientFlags {
            first_party: true,
            ..ClientFlags::default()
        };
        assert!(validate(true, rs).is_err());
        assert!(validate(false, rs).is_ok());
        assert!(validate(true, fp).is_ok());
    }
}
