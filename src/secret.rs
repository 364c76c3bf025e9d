//! Secret-bearing newtypes and the random material they are made from. Every type here has a
//! hand-written `Debug` that prints only its name, no `Display`, and constant-time equality.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

/// Defines a string newtype whose `Debug` is `Name(REDACTED)`.
macro_rules! secret_string {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone)]
        pub struct $name(SecretString);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: String) -> Self {
                Self(SecretString::from(value))
            }

            /// The secret itself: call only where it must leave the process or be hashed.
            pub fn expose(&self) -> &str {
                self.0.expose_secret()
            }

            /// Constant-time comparison with a presented value.
            pub fn matches(&self, presented: &str) -> bool {
                ct_eq(self.expose(), presented)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "(REDACTED)"))
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d).map(Self::new)
            }
        }
    };
}

secret_string!(
    /// A human password in flight (sign-up, sign-in, CLI). Never stored: see `PasswordHash`.
    Password
);
secret_string!(
    /// The per-session anti-CSRF token embedded in every form.
    CsrfToken
);
secret_string!(
    /// An OAuth client secret, as issued (shown once) or presented.
    ClientSecret
);
secret_string!(
    /// A refresh token, as issued or presented.
    RefreshToken
);
secret_string!(
    /// A long-lived credential's secret (API key, `sk-` token, personal token, secret key).
    CredentialSecret
);

/// `n` bytes from rand's thread-local CSPRNG (ChaCha, seeded and reseeded from the operating
/// system).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::fill(&mut bytes);
    bytes
}

/// A random UUID v7 (time-ordered) for ids that need no ordering within a millisecond (token
/// ids, request ids). `Uuid::now_v7` orders ids within a millisecond too, but asks the
/// operating system for randomness on every call: a system call per request.
pub fn unordered_uuid_v7() -> uuid::Uuid {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    uuid::Builder::from_unix_timestamp_millis(ms, &random_bytes::<10>()).into_uuid()
}

/// A URL-safe random string carrying `N` bytes of entropy.
pub fn random_token<const N: usize>() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<N>())
}

/// Constant-time string equality (length is not hidden, content is).
pub fn ct_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_contains_the_secret() {
        let password = Password::new("correct horse battery".into());
        let csrf = CsrfToken::new("tok-abc123".into());
        assert_eq!(format!("{password:?}"), "Password(REDACTED)");
        assert_eq!(format!("{csrf:?}"), "CsrfToken(REDACTED)");
    }

    #[test]
    fn matches_compares_whole_values() {
        let csrf = CsrfToken::new("abc".into());
        assert!(csrf.matches("abc"));
        assert!(!csrf.matches("abd"));
        assert!(!csrf.matches("ab"));
    }

    #[test]
    fn random_tokens_differ_and_have_the_expected_length() {
        let a = random_token::<32>();
        let b = random_token::<32>();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
    }
}

/// Keyed hash for high-entropy machine secrets (client secrets, codes, refresh tokens, API keys):
/// HMAC-SHA256 under a server key. About a microsecond, so fit for every request, and useless to
/// whoever copies the database without the key. (Human passwords use argon2id instead.)
#[derive(Clone)]
pub struct SecretHasher {
    mac: hmac::Hmac<sha2::Sha256>,
}

impl SecretHasher {
    /// A hasher under this key.
    pub fn new(key: &[u8]) -> Self {
        use hmac::KeyInit;
        // HMAC accepts keys of any length, so this cannot fail.
        let mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        Self { mac }
    }

    /// Lower-case hex HMAC of a secret: what storage keeps and looks up.
    pub fn hash(&self, secret: &str) -> String {
        use hmac::Mac;
        let mut mac = self.mac.clone();
        mac.update(secret.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut out = String::with_capacity(64);
        for b in digest {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        out
    }

    /// Whether `secret` hashes to `stored`, compared in constant time.
    pub fn verify(&self, secret: &str, stored: &str) -> bool {
        ct_eq(&self.hash(secret), stored)
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl std::fmt::Debug for SecretHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHasher(REDACTED)")
    }
}

#[cfg(test)]
mod hasher_tests {
    use super::*;

    #[test]
    fn hashes_are_keyed_and_verifiable() {
        let a = SecretHasher::new(b"key one");
        let b = SecretHasher::new(b"key two");
        assert_eq!(a.hash("s").len(), 64);
        assert_ne!(a.hash("s"), b.hash("s"));
        assert!(a.verify("s", &a.hash("s")));
        assert!(!a.verify("t", &a.hash("s")));
    }
}

/// Authenticated encryption (ChaCha20-Poly1305, RFC 8439) under a server key, for the few
/// secrets the server must read back rather than only check (authenticator-app seeds): whoever
/// copies the database without the key learns nothing from them. Each value is sealed with a
/// fresh random nonce and bound to `context` (the row it belongs to), so a sealed value moved to
/// another row does not open.
#[derive(Clone)]
pub struct Sealer {
    cipher: chacha20poly1305::ChaCha20Poly1305,
}

/// Nonce length of ChaCha20-Poly1305 (RFC 8439 §2.8).
const NONCE_LEN: usize = 12;

impl Sealer {
    /// A sealer under this 32-byte key; `None` for a key of another length.
    pub fn new(key: &[u8]) -> Option<Self> {
        use chacha20poly1305::aead::KeyInit;
        let cipher = chacha20poly1305::ChaCha20Poly1305::new_from_slice(key).ok()?;
        Some(Self { cipher })
    }

    /// `secret` sealed for `context`: base64 of the nonce followed by the ciphertext and tag.
    pub fn seal(&self, secret: &[u8], context: &str) -> Option<String> {
        use chacha20poly1305::aead::{Aead, Payload};
        let nonce_bytes = random_bytes::<NONCE_LEN>();
        let nonce = chacha20poly1305::Nonce::from(nonce_bytes);
        let payload = Payload {
            msg: secret,
            aad: context.as_bytes(),
        };
        let sealed = self.cipher.encrypt(&nonce, payload).ok()?;
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&sealed);
        Some(base64::engine::general_purpose::STANDARD.encode(out))
    }

    /// The secret `seal` made for `context`; `None` when it was altered, made under another key
    /// or for another context.
    pub fn open(&self, sealed: &str, context: &str) -> Option<Vec<u8>> {
        use chacha20poly1305::aead::{Aead, Payload};
        let raw = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .ok()?;
        if raw.len() < NONCE_LEN {
            return None;
        }
        let (nonce, body) = raw.split_at(NONCE_LEN);
        let nonce = chacha20poly1305::Nonce::try_from(nonce).ok()?;
        let payload = Payload {
            msg: body,
            aad: context.as_bytes(),
        };
        self.cipher.decrypt(&nonce, payload).ok()
    }
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(REDACTED)")
    }
}

#[cfg(test)]
mod sealer_tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_key_and_context() {
        let a = Sealer::new(&[7u8; 32]).unwrap();
        let b = Sealer::new(&[8u8; 32]).unwrap();
        let sealed = a.seal(b"seed", "user:1").unwrap();
        assert_eq!(a.open(&sealed, "user:1").as_deref(), Some(&b"seed"[..]));
        assert_eq!(a.open(&sealed, "user:2"), None, "another row");
        assert_eq!(b.open(&sealed, "user:1"), None, "another key");
        assert_ne!(sealed, a.seal(b"seed", "user:1").unwrap(), "fresh nonce");
        assert!(Sealer::new(&[0u8; 16]).is_none());
        assert_eq!(format!("{a:?}"), "Sealer(REDACTED)");
    }
}
