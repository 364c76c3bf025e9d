//! Human passwords: the length policy and argon2id hashing with OWASP's parameters (argon2's
//! defaults: m=19 MiB, t=2, p=1). Hashing costs tens of milliseconds of CPU, so it always runs on
//! the blocking pool, never on an async worker.

use std::sync::LazyLock;

use argon2::password_hash::phc::PasswordHash as Phc;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use crate::error::{AppError, Result};
use crate::secret::Password;

/// Shortest password accepted.
pub const MIN_LENGTH: usize = 8;
/// Longest password accepted (bounds hashing work for hostile input).
pub const MAX_LENGTH: usize = 1024;

/// A stored argon2id PHC string.
#[derive(Clone)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string loaded from storage.
    pub fn from_stored(phc: String) -> Self {
        Self(phc)
    }

    /// The PHC string, for storage.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(REDACTED)")
    }
}

/// Checks a new password against the policy.
pub fn validate(password: &Password) -> Result<()> {
    let len = password.expose().chars().count();
    if len < MIN_LENGTH {
        return Err(AppError::validation(
            "password",
            format!("Passwords must be at least {MIN_LENGTH} characters."),
        ));
    }
    if len > MAX_LENGTH {
        return Err(AppError::validation(
            "password",
            format!("Passwords must be at most {MAX_LENGTH} characters."),
        ));
    }
    Ok(())
}

/// Hashes a password with a fresh salt, off the async workers.
pub async fn hash(password: Password) -> Result<PasswordHash> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.expose().as_bytes())
            .map(|phc| PasswordHash(phc.to_string()))
            .map_err(|e| AppError::internal(anyhow::anyhow!("argon2 hash: {e}")))
    })
    .await
    .map_err(AppError::internal)?
}

/// Verifies a password against a stored hash, off the async workers. With no stored hash (an
/// unknown account) it verifies against a fixed dummy hash and answers `false`, so both cases
/// cost the same time and an attacker cannot tell which emails have accounts.
pub async fn verify(password: Password, stored: Option<PasswordHash>) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let phc = stored.map_or_else(|| DUMMY_HASH.clone(), |h| h.0);
        let parsed =
            Phc::new(&phc).map_err(|e| AppError::internal(anyhow::anyhow!("stored hash: {e}")))?;
        let ok = Argon2::default()
            .verify_password(password.expose().as_bytes(), &parsed)
            .is_ok();
        Ok(known && ok)
    })
    .await
    .map_err(AppError::internal)?
}

/// A hash of a random password, computed once per process, with the same parameters as real ones.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let throwaway = crate::secret::random_token::<16>();
    Argon2::default()
        .hash_password(throwaway.as_bytes())
        .map(|phc| phc.to_string())
        .unwrap_or_default()
});

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_use_argon2id() {
        let h = hash(Password::new("correct horse".into())).await.unwrap();
        assert!(h.as_str().starts_with("$argon2id$"));
        assert!(
            verify(Password::new("correct horse".into()), Some(h.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify(Password::new("wrong horse".into()), Some(h))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn unknown_accounts_never_verify() {
        assert!(
            !verify(Password::new("anything".into()), None)
                .await
                .unwrap()
        );
    }

    #[test]
    fn policy_enforces_length() {
        assert!(validate(&Password::new("short".into())).is_err());
        assert!(validate(&Password::new("12345678".into())).is_ok());
        assert!(validate(&Password::new("x".repeat(1025))).is_err());
    }

    #[test]
    fn hash_debug_is_redacted() {
        let h = PasswordHash::from_stored("$argon2id$v=19$secret".into());
        assert_eq!(format!("{h:?}"), "PasswordHash(REDACTED)");
    }
}
