//! Human passwords: the length policy and argon2id hashing with OWASP's parameters (argon2's
//! defaults: m=19 MiB, t=2, p=1). Hashing costs tens of milliseconds of CPU and 19 MiB of memory,
//! so it always runs on the blocking pool, never on an async worker, and always through the
//! server's `HashGate`, which bounds how many run at once and refuses (`AppError::Busy`) beyond a
//! short line, and computes in the gate's per-thread scratch memory rather than allocating 19 MiB
//! each time. The gate is machinery and lives in `runtime`; what to hash is decided here.

use std::sync::OnceLock;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash as Phc, Salt};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{AppError, Result};
use crate::runtime::hash_gate::{HashGate, Scratch};
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

/// Hashes a password with a fresh salt, off the async workers, when `gate` admits it.
pub async fn hash(gate: &HashGate, password: Password) -> Result<PasswordHash> {
    gate.run(move |scratch| hash_in(password.expose().as_bytes(), scratch).map(PasswordHash))
        .await?
}

/// Verifies a password against a stored hash, off the async workers, when `gate` admits it.
/// With no stored hash (an unknown account) it verifies against a fixed dummy hash and answers
/// `false`, so both cases cost the same time, and pass the same gate, and an attacker cannot
/// tell which emails have accounts.
pub async fn verify(
    gate: &HashGate,
    password: Password,
    stored: Option<PasswordHash>,
) -> Result<bool> {
    gate.run(move |scratch| {
        let password = password.expose().as_bytes();
        match stored {
            Some(stored) => verify_in(password, stored.as_str(), scratch),
            None => {
                let dummy = DUMMY_HASH.get_or_init(|| {
                    let throwaway = crate::secret::random_token::<16>();
                    hash_in(throwaway.as_bytes(), scratch).unwrap_or_default()
                });
                verify_in(password, dummy, scratch).map(|_| false)
            }
        }
    })
    .await?
}

/// A hash of a random password, computed once per process, with the same parameters as real ones.
static DUMMY_HASH: OnceLock<String> = OnceLock::new();

/// argon2id, version 1.3, with OWASP's parameters: what new hashes are made with.
fn current() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::DEFAULT)
}

/// Runs argon2 in `scratch` rather than in memory of its own (see `runtime::hash_gate`).
fn compute(
    argon: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    scratch: &mut Scratch,
) -> std::result::Result<(), argon2::Error> {
    let blocks = scratch.blocks(argon.params().block_count());
    argon.hash_password_into_with_memory(password, salt, out, blocks)
}

/// The PHC string of `password` under a fresh salt and the current parameters.
fn hash_in(password: &[u8], scratch: &mut Scratch) -> Result<String> {
    let fail = |e: &dyn std::fmt::Display| AppError::internal(anyhow::anyhow!("argon2 hash: {e}"));
    let argon = current();
    let salt = argon2::password_hash::try_generate_salt().map_err(|e| fail(&e))?;
    let salt = Salt::new(&salt).map_err(|e| fail(&e))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    compute(&argon, password, &salt, &mut out, scratch).map_err(|e| fail(&e))?;
    let phc = Phc {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon.params()).map_err(|e| fail(&e))?,
        salt: Some(salt),
        hash: Some(Output::new(&out).map_err(|e| fail(&e))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `stored`, under the parameters stored with it. A
/// string that does not parse is an internal error; one that parses but cannot be recomputed
/// (unknown algorithm, bad parameters) matches nothing.
fn verify_in(password: &[u8], stored: &str, scratch: &mut Scratch) -> Result<bool> {
    let parsed =
        Phc::new(stored).map_err(|e| AppError::internal(anyhow::anyhow!("stored hash: {e}")))?;
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Ok(false);
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
        return Ok(false);
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return Ok(false),
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return Ok(false);
    };
    let argon = Argon2::new(algorithm, version, params);
    let mut buffer = [0u8; Output::MAX_LENGTH];
    let Some(out) = buffer.get_mut(..expected.len()) else {
        return Ok(false);
    };
    if compute(&argon, password, salt, out, scratch).is_err() {
        return Ok(false);
    }
    // `Output`'s equality is constant-time.
    Ok(Output::new(out).is_ok_and(|computed| &computed == expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_use_argon2id() {
        let gate = HashGate::new(1, 1);
        let h = hash(&gate, Password::new("correct horse".into()))
            .await
            .unwrap();
        assert!(h.as_str().starts_with("$argon2id$"));
        assert!(
            verify(
                &gate,
                Password::new("correct horse".into()),
                Some(h.clone())
            )
            .await
            .unwrap()
        );
        assert!(
            !verify(&gate, Password::new("wrong horse".into()), Some(h))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn unknown_accounts_never_verify() {
        let gate = HashGate::new(1, 1);
        assert!(
            !verify(&gate, Password::new("anything".into()), None)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn hashes_interoperate_with_the_argon2_crates_own() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let gate = HashGate::new(1, 1);
        let ours = hash(&gate, Password::new("correct horse".into()))
            .await
            .unwrap();
        assert!(ours.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let parsed = Phc::new(ours.as_str()).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        let theirs = Argon2::default().hash_password(b"battery staple").unwrap();
        let theirs = PasswordHash::from_stored(theirs.to_string());
        let check =
            |pw: &str, h: &PasswordHash| verify(&gate, Password::new(pw.into()), Some(h.clone()));
        assert!(check("battery staple", &theirs).await.unwrap());
        assert!(!check("battery stapler", &theirs).await.unwrap());
        let other_params = Argon2::from(Params::new(8, 1, 1, Some(16)).unwrap())
            .hash_password(b"battery staple")
            .unwrap();
        let other_params = PasswordHash::from_stored(other_params.to_string());
        assert!(
            check("battery staple", &other_params).await.unwrap(),
            "hashes keep verifying under the parameters stored with them"
        );
        assert!(
            check(
                "battery staple",
                &PasswordHash::from_stored("nonsense".into())
            )
            .await
            .is_err()
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
