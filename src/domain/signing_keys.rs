//! Rotating the server's token-signing keys, an operator's action that the audit log records.
//! The key set itself (generation, publication, retirement) lives in `domain::tokens`.

use serde_json::json;

use crate::domain::audit::AuditEvent;
use crate::domain::context::{Actor, Context};
use crate::domain::jwt::SigningAlg;
use crate::domain::policy::ServerAction;
use crate::domain::tokens;
use crate::error::Result;

/// Adds one signing key per algorithm (Ed25519 and RSA) that new tokens are signed with; the
/// previous ones keep verifying, and stay published, until their tokens expire. Returns each new
/// key's algorithm and id; each is recorded as `signing_key.rotated`.
pub async fn rotate(ctx: &Context, by: Actor<'_>) -> Result<Vec<(SigningAlg, String)>> {
    ctx.policy()
        .authorize_server(by, ServerAction::RotateSigningKeys)?;
    let keys = tokens::rotate_keys(ctx.db()).await?;
    for key in &keys {
        ctx.record(
            by.stamp(AuditEvent::here("signing_key.rotated"))
                .target(format!("key:{}", key.kid))
                .detail(json!({"alg": key.alg})),
        );
    }
    Ok(keys.into_iter().map(|k| (k.alg, k.kid)).collect())
}
