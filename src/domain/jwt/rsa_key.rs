//! The RSA key behind RS256 ID tokens, parsed once: PKCS#1 v1.5 signatures with SHA-256
//! (RFC 7518 §3.3), computed with blinding so their timing says nothing about the key.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::sha2::Sha256;
use rsa::signature::{Keypair as _, RandomizedSigner as _, SignatureEncoding as _, Verifier as _};
use rsa::traits::PublicKeyParts as _;

use super::stored::{StoredKey, rsa_public};
use crate::error::{AppError, Result};

/// RFC 7518 §3.3: RS256 keys are at least 2048 bits.
const MIN_BITS: usize = 2048;

/// A parsed RSA private key, ready to sign. No `Debug`: it is key material.
pub(super) struct RsaKey {
    signing: SigningKey<Sha256>,
    verifying: VerifyingKey<Sha256>,
}

impl RsaKey {
    /// Parses a stored key, refusing one whose public half does not match or that is too short.
    pub(super) fn parse(stored: &StoredKey) -> Result<Self> {
        let bad = |why: &str| AppError::internal(anyhow::anyhow!("RSA key {}: {why}", stored.kid));
        let der = STANDARD
            .decode(&stored.private_key)
            .map_err(|_| bad("the private key is not base64"))?;
        let private = RsaPrivateKey::from_pkcs8_der(&der)
            .map_err(|_| bad("the private key is not PKCS#8"))?;
        if private.size() * 8 < MIN_BITS {
            return Err(bad("shorter than 2048 bits"));
        }
        if private.to_public_key() != rsa_public(stored)? {
            return Err(bad("the public key does not match the private key"));
        }
        let signing = SigningKey::<Sha256>::new(private);
        Ok(Self {
            verifying: signing.verifying_key(),
            signing,
        })
    }

    /// The RSASSA-PKCS1-v1_5 SHA-256 signature of `message`.
    pub(super) fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let signature = self
            .signing
            .try_sign_with_rng(&mut rsa::rand_core::OsRng, message)
            .map_err(|e| AppError::internal(anyhow::anyhow!("RS256 signature: {e}")))?;
        Ok(signature.to_vec())
    }

    /// Whether `signature` is this key's RS256 signature of `message`.
    pub(super) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        Signature::try_from(signature).is_ok_and(|sig| self.verifying.verify(message, &sig).is_ok())
    }
}
