//! Rotating the server's token-signing keys, an operator's action that the audit log records.
//! The key set itself (generation, publication, retirement) lives in `domain::tokens`.

use crate::domain::audit::AuditEvent;
use crate::domain::context::{Actor, Context};
use crate::domain::policy::ServerAction;
use crate::domain::tokens;
use crate::error::Result;

/// Adds a signing key that new tokens are signed with; the previous one keeps verifying until
/// its tokens expire. Returns the new key's id.
pub async fn rotate(ctx: &Context, by: Actor<'_>) -> Result<String> {
    ctx.policy()
        .authorize_server(by, ServerAction::RotateSigningKeys)?;
    let kid = tokens::rotate_keys(ctx.db()).await?;
    ctx.record(
        by.stamp(AuditEvent::here("signing_key.rotated"))
            .target(format!("key:{kid}")),
    );
    Ok(kid)
}
