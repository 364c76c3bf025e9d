//! Passkeys (WebAuthn, through `webauthn-rs`): a person registers authenticator keys on Settings →
//! Passkeys and signs in with one alone. Each operation records its own audit event
//! (`passkey.registered`, `passkey.renamed`, `passkey.removed`, `passkey.counter_regressed`, and
//! `signin.success` / `signin.failure` / `signin.throttled` with `"method": "passkey"`).
//!
//! - `relying_party`: who this server is to authenticators (from the issuer URL), built once.
//! - `register`: the registration ceremony.
//! - `authenticate`: the authentication ceremony, for anyone (discoverable) or for one person
//!   (a passkey as a second step after the password), and the passkey-only sign-in on top.
//!
//! A ceremony's state (its challenge) is handed to the caller to keep server-side (the browser
//! session) and handed back, once, to finish: it is never sent to the browser.

mod authenticate;
mod register;
mod relying_party;

pub use authenticate::{AuthenticationState, finish_authentication, sign_in, start_authentication};
pub use register::{RegistrationState, finish_registration, start_registration};
pub use relying_party::RelyingParty;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use crate::domain::audit::AuditEvent;
use crate::domain::context::Context;
use crate::domain::user::User;
use crate::error::{AppError, Result};
use crate::storage;

/// Longest passkey name, in characters.
pub const NAME_MAX_CHARS: usize = 64;
/// Most passkeys one person may register: enough for every device they own, and a bound on
/// what a sign-in for them loads.
pub const MAX_PER_PERSON: usize = 20;
/// Seconds a started ceremony may be finished in: the timeout the browser is given, plus a
/// little for the round trip.
pub const CEREMONY_SECS: i64 = 330;
/// Longest credential id an authenticator may return (WebAuthn §5.8.3), in bytes.
const CREDENTIAL_ID_MAX: usize = 1023;

/// A registered passkey, as stored.
#[derive(Debug, Clone)]
pub struct StoredPasskey {
    /// UUID (v7): how Settings → Passkeys names it.
    pub id: String,
    /// Its owner.
    pub user_id: String,
    /// The authenticator's credential id, base64url without padding: how a sign-in finds it.
    pub credential_id: String,
    /// What its owner calls it ("MacBook").
    pub name: String,
    /// The credential (`webauthn_rs::prelude::Passkey`) as JSON: a public key, not a secret.
    pub passkey: String,
    /// The authenticator's signature counter at the last use (0 for the many that keep none).
    pub sign_count: u32,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last sign-in with it.
    pub last_used_at: Option<i64>,
}

/// A passkey's name as its owner typed it: trimmed, 1 to `NAME_MAX_CHARS` characters, no
/// control characters.
pub fn parse_name(raw: &str) -> Result<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(AppError::validation(
            "name",
            "Give the passkey a name, such as the device it is on.",
        ));
    }
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(AppError::validation(
            "name",
            format!("Passkey names are at most {NAME_MAX_CHARS} characters."),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::validation(
            "name",
            "Passkey names cannot contain control characters.",
        ));
    }
    Ok(name.to_owned())
}

/// How storage and sign-in name a credential id.
fn encode_credential_id(raw: &[u8]) -> Result<String> {
    if raw.is_empty() || raw.len() > CREDENTIAL_ID_MAX {
        return Err(AppError::validation(
            "credential",
            "The authenticator returned a credential id of an impossible length.",
        ));
    }
    Ok(URL_SAFE_NO_PAD.encode(raw))
}

/// The relying party, or why passkeys are off on this server.
fn relying_party(ctx: &Context) -> Result<&RelyingParty> {
    ctx.relying_party().ok_or_else(|| {
        AppError::Forbidden(
            "Passkeys are not available on this server: its public URL must name a host, \
             not an IP address."
                .into(),
        )
    })
}

/// The person's passkeys, oldest first.
pub async fn list(ctx: &Context, user: &User) -> Result<Vec<StoredPasskey>> {
    storage::passkeys::list(ctx.db(), &user.id).await
}

/// Renames one of the person's passkeys; `NotFound` for an id that is not one of theirs.
pub async fn rename(ctx: &Context, user: &User, id: &str, name: &str) -> Result<()> {
    // Whose it is first: someone else's passkey is not found, whatever the name.
    let before = storage::passkeys::find_owned(ctx.db(), &user.id, id)
        .await?
        .ok_or(AppError::NotFound("Passkey"))?;
    let name = parse_name(name)?;
    if !storage::passkeys::rename(ctx.db(), &user.id, id, &name).await? {
        return Err(AppError::NotFound("Passkey"));
    }
    ctx.record(
        AuditEvent::here("passkey.renamed")
            .by_user(&user.id)
            .target(format!("passkey:{id}"))
            .detail(json!({"from": before.name, "to": name})),
    );
    Ok(())
}

/// Removes one of the person's passkeys (it no longer signs anyone in); `NotFound` for an id
/// that is not one of theirs.
pub async fn remove(ctx: &Context, user: &User, id: &str) -> Result<()> {
    let found = storage::passkeys::find_owned(ctx.db(), &user.id, id)
        .await?
        .ok_or(AppError::NotFound("Passkey"))?;
    if !storage::passkeys::delete(ctx.db(), &user.id, id).await? {
        return Err(AppError::NotFound("Passkey"));
    }
    ctx.record(
        AuditEvent::here("passkey.removed")
            .by_user(&user.id)
            .target(format!("passkey:{id}"))
            .detail(json!({"name": found.name})),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(parse_name("  MacBook ").unwrap(), "MacBook");
        assert!(parse_name("   ").is_err());
        assert!(parse_name(&"x".repeat(NAME_MAX_CHARS + 1)).is_err());
        assert!(parse_name(&"é".repeat(NAME_MAX_CHARS)).is_ok());
        assert!(parse_name("a\u{0}b").is_err());
    }

    #[test]
    fn credential_ids_are_bounded() {
        assert!(encode_credential_id(&[]).is_err());
        assert!(encode_credential_id(&[7; CREDENTIAL_ID_MAX + 1]).is_err());
        assert_eq!(encode_credential_id(&[0xfb, 0xff]).unwrap(), "-_8");
    }
}
