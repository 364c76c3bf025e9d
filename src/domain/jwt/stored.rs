//! Signing keys in their persisted form: making a new one, and the public JWK (RFC 7517) the
//! JWKS publishes for it. Private halves are PKCS#8 DER, base64; an Ed25519 key's public half
//! is its raw 32 bytes, base64url (the JWK's `x`), an RSA key's is its SubjectPublicKeyInfo
//! DER, base64.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use rsa::pkcs8::{DecodePublicKey as _, EncodePublicKey as _};
use rsa::traits::PublicKeyParts as _;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{Value, json};

use super::SigningAlg;
use crate::error::{AppError, Result};
use crate::secret::random_bytes;

/// RSA modulus size: 2048 bits, the minimum RS256 allows (RFC 7518 §3.3).
const RSA_BITS: usize = 2048;

/// A stored key in its persisted form.
#[derive(Clone)]
pub struct StoredKey {
    /// Key id, published in the JWKS and each token's header.
    pub kid: String,
    /// What the key signs with.
    pub alg: SigningAlg,
    /// PKCS#8 DER private key, base64.
    pub private_key: String,
    /// The public key: Ed25519's raw 32 bytes, base64url; RSA's SubjectPublicKeyInfo DER,
    /// base64.
    pub public_key: String,
    /// Unix seconds.
    pub created_at: i64,
    /// When a newer key of the same algorithm took over signing.
    pub retired_at: Option<i64>,
    /// When it starts signing (Unix seconds); `None`: as soon as it exists. Until then it is
    /// published and verifies, so every node knows it before any node signs with it.
    pub activates_at: Option<i64>,
}

impl StoredKey {
    /// Whether it signs at `now` (Unix seconds).
    pub fn is_active(&self, now: i64) -> bool {
        self.activates_at.is_none_or(|at| at <= now)
    }
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StoredKey({} {})", self.alg, self.kid)
    }
}

fn internal(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::internal(anyhow::anyhow!("{what}: {e}"))
}

/// Makes a fresh key for `alg`, dated `now`. An RSA key takes a prime search (a few hundred
/// milliseconds): call it off the async workers.
pub fn generate_key(alg: SigningAlg, now: i64) -> Result<StoredKey> {
    let (private_key, public_key) = match alg {
        SigningAlg::EdDsa => {
            let signing = SigningKey::from_bytes(&random_bytes::<32>());
            let der = signing.to_pkcs8_der().map_err(|e| internal("pkcs8", e))?;
            (
                STANDARD.encode(der.as_bytes()),
                URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes()),
            )
        }
        SigningAlg::Rs256 => {
            let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, RSA_BITS)
                .map_err(|e| internal("rsa", e))?;
            let der = private.to_pkcs8_der().map_err(|e| internal("pkcs8", e))?;
            let public = private
                .to_public_key()
                .to_public_key_der()
                .map_err(|e| internal("spki", e))?;
            (
                STANDARD.encode(der.as_bytes()),
                STANDARD.encode(public.as_bytes()),
            )
        }
    };
    Ok(StoredKey {
        kid: uuid::Uuid::now_v7().simple().to_string(),
        alg,
        private_key,
        public_key,
        created_at: now,
        retired_at: None,
        activates_at: None,
    })
}

/// The RSA public key a stored RSA key publishes.
pub(super) fn rsa_public(key: &StoredKey) -> Result<RsaPublicKey> {
    let der = STANDARD
        .decode(&key.public_key)
        .map_err(|e| internal("base64", e))?;
    RsaPublicKey::from_public_key_der(&der).map_err(|e| internal("spki", e))
}

/// The public JWK of a key (RFC 7517 §4; RFC 8037 §2 for Ed25519, RFC 7518 §6.3.1 for RSA),
/// with its `alg`, `use: sig` and `kid`.
pub fn public_jwk(key: &StoredKey) -> Result<Value> {
    Ok(match key.alg {
        SigningAlg::EdDsa => json!({
            "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
            "kid": key.kid, "x": key.public_key,
        }),
        SigningAlg::Rs256 => {
            let public = rsa_public(key)?;
            json!({
                "kty": "RSA", "alg": "RS256", "use": "sig", "kid": key.kid,
                // RFC 7518 §6.3.1: unsigned big-endian, base64url, no leading zero bytes.
                "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
                "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_key_debug_shows_only_the_alg_and_kid() {
        let k = generate_key(SigningAlg::EdDsa, 1).unwrap();
        let shown = format!("{k:?}");
        assert!(!shown.contains(&k.private_key));
        assert!(shown.contains(&k.kid) && shown.contains("EdDSA"));
    }

    #[test]
    fn an_ed25519_jwk_carries_the_raw_public_key() {
        let k = generate_key(SigningAlg::EdDsa, 1).unwrap();
        let jwk = public_jwk(&k).unwrap();
        assert_eq!(jwk["kty"], "OKP");
        assert_eq!(jwk["alg"], "EdDSA");
        assert_eq!(jwk["x"], k.public_key.as_str());
        assert!(jwk.get("d").is_none());
    }

    #[test]
    fn an_rsa_jwk_carries_the_modulus_and_exponent_of_a_2048_bit_key() {
        let k = generate_key(SigningAlg::Rs256, 1).unwrap();
        let jwk = public_jwk(&k).unwrap();
        assert_eq!(
            (&jwk["kty"], &jwk["alg"], &jwk["use"]),
            (&json!("RSA"), &json!("RS256"), &json!("sig"))
        );
        assert_eq!(jwk["kid"], k.kid.as_str());
        assert_eq!(jwk["e"], "AQAB", "65537");
        let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
        assert_eq!(n.len() * 8, RSA_BITS);
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(
                jwk.get(private).is_none(),
                "{private} must not be published"
            );
        }
    }
}
