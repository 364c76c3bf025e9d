//! Rotating the server's token-signing keys, an operator's action that the audit log records.
//! The key set itself (generation, publication, retirement) lives in `domain::tokens`.

use serde_json::json;

use crate::domain::audit::AuditEvent;
use crate::domain::context::{Actor, Context};
use crate::domain::jwt::SigningAlg;
use crate::domain::policy::ServerAction;
use crate::domain::tokens;
use crate::error::Result;

/// Adds one signing key per algorithm (Ed25519 and RSA) that every node signs new tokens with
/// from `delay_secs` on (published at once, so relying parties and other nodes know them
/// first); the previous ones keep verifying, and stay published, until their tokens expire.
/// Returns each new key's algorithm and id, and when they start signing (Unix seconds); each is
/// recorded as `signing_key.rotated`.
pub async fn rotate(
    ctx: &Context,
    by: Actor<'_>,
    delay_secs: u32,
) -> Result<(Vec<(SigningAlg, String)>, i64)> {
    ctx.policy()
        .authorize_server(by, ServerAction::RotateSigningKeys)?;
    let rotation = tokens::rotate_keys(ctx.db(), delay_secs).await?;
    for key in &rotation.keys {
        ctx.record(
            by.stamp(AuditEvent::here("signing_key.rotated"))
                .target(format!("key:{}", key.kid))
                .detail(json!({"alg": key.alg, "activates_at": rotation.activates_at})),
        );
    }
    let keys = rotation.keys.into_iter().map(|k| (k.alg, k.kid)).collect();
    Ok((keys, rotation.activates_at))
}
