//! JWT access tokens (RFC 9068) signed with Ed25519 (EdDSA), and the signing keys behind them.
//!
//! Keys live in the database (created on first start, added by `portcullis keys rotate`); each
//! server keeps them parsed in memory. A retired key stays published, and keeps verifying, until
//! every token it signed has expired.

use std::sync::{Arc, RwLock};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, Result};
use crate::secret::random_bytes;

/// The claims of a Portcullis access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    /// Issuer URL.
    pub iss: String,
    /// The user's public id (`usr_…`), or the client id for client-credentials tokens.
    pub sub: String,
    /// Audience: this server's issuer URL (Portcullis's own API).
    pub aud: String,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Issue time, Unix seconds.
    pub iat: i64,
    /// Unique token id (UUID v7).
    pub jti: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// Space-separated scopes.
    pub scope: String,
    /// The token family (authorization-code grants): revoking it revokes the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
    /// The tenant the token acts in (tokens exchanged from a credential).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<String>,
    /// `test` for tokens from test-mode API keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    /// The credential the token was exchanged from: revoking it revokes the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<String>,
    /// A system credential's roles (`[]` with `full_access: true` when it has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<crate::domain::roles::RoleClaim>>,
    /// Present for system credentials: true when they have no roles, so no limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_access: Option<bool>,
}

/// A stored key in its persisted form.
#[derive(Clone)]
pub struct StoredKey {
    /// Key id, published in the JWKS and each token's header.
    pub kid: String,
    /// PKCS#8 DER private key, base64.
    pub private_key: String,
    /// Raw 32-byte public key, base64url.
    pub public_key: String,
    /// Unix seconds.
    pub created_at: i64,
    /// When a newer key took over signing.
    pub retired_at: Option<i64>,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StoredKey({})", self.kid)
    }
}

/// Makes a fresh Ed25519 key.
pub fn generate_key(now: i64) -> Result<StoredKey> {
    let signing = ed25519_dalek::SigningKey::from_bytes(&random_bytes::<32>());
    let der = signing
        .to_pkcs8_der()
        .map_err(|e| AppError::internal(anyhow::anyhow!("pkcs8: {e}")))?;
    Ok(StoredKey {
        kid: uuid::Uuid::now_v7().simple().to_string(),
        private_key: STANDARD.encode(der.as_bytes()),
        public_key: URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes()),
        created_at: now,
        retired_at: None,
    })
}

struct ParsedKey {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    header: Header,
}

/// Keys parsed for use: the newest signs, all verify.
pub struct KeySet {
    keys: Vec<ParsedKey>,
    validation: Validation,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.keys.iter().map(|k| &k.kid))
            .finish()
    }
}

/// Why a presented access token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyError {
    /// Well-formed and signed by us, but past `exp`.
    Expired,
    /// Anything else: malformed, bad signature, unknown key, wrong issuer or audience.
    Invalid,
}

impl KeySet {
    /// Parses stored keys (newest first, so the first signs).
    pub fn new(mut stored: Vec<StoredKey>, issuer: &str) -> Result<Self> {
        stored.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.kid.cmp(&a.kid)));
        let keys = stored
            .into_iter()
            .map(|k| {
                let der = STANDARD
                    .decode(&k.private_key)
                    .map_err(AppError::internal)?;
                let mut header = Header::new(Algorithm::EdDSA);
                header.typ = Some("at+jwt".into());
                header.kid = Some(k.kid.clone());
                Ok(ParsedKey {
                    encoding: EncodingKey::from_ed_der(&der),
                    decoding: DecodingKey::from_ed_components(&k.public_key)
                        .map_err(AppError::internal)?,
                    kid: k.kid,
                    header,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.leeway = 0;
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        Ok(Self { keys, validation })
    }

    /// The id of the key that signs.
    pub fn active_kid(&self) -> Option<&str> {
        self.keys.first().map(|k| k.kid.as_str())
    }

    /// Signs claims with the active key.
    pub fn sign(&self, claims: &AccessClaims) -> Result<String> {
        let key = self
            .keys
            .first()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("no signing key")))?;
        jsonwebtoken::encode(&key.header, claims, &key.encoding).map_err(AppError::internal)
    }

    /// Verifies a token's signature, type, issuer, audience and expiry.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, VerifyError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Invalid)?;
        if header.typ.as_deref() != Some("at+jwt") {
            return Err(VerifyError::Invalid);
        }
        let kid = header.kid.ok_or(VerifyError::Invalid)?;
        let key = self
            .keys
            .iter()
            .find(|k| k.kid == kid)
            .ok_or(VerifyError::Invalid)?;
        match jsonwebtoken::decode::<AccessClaims>(token, &key.decoding, &self.validation) {
            Ok(data) => Ok(data.claims),
            Err(e) if matches!(e.kind(), ErrorKind::ExpiredSignature) => Err(VerifyError::Expired),
            Err(_) => Err(VerifyError::Invalid),
        }
    }

    /// Whether a key id is known.
    pub fn knows(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid == kid)
    }
}

/// The key set shared by all workers, replaceable when keys are rotated.
#[derive(Clone)]
pub struct Keys(Arc<RwLock<Arc<KeySet>>>);

impl Keys {
    /// Wraps a parsed set.
    pub fn new(set: KeySet) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(set))))
    }

    /// The current set (a cheap clone of an `Arc`).
    pub fn current(&self) -> Arc<KeySet> {
        match self.0.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Installs a newly loaded set.
    pub fn replace(&self, set: KeySet) {
        match self.0.write() {
            Ok(mut guard) => *guard = Arc::new(set),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(set),
        }
    }
}

/// The kid of a token's header, without verifying anything.
pub fn peek_kid(token: &str) -> Option<String> {
    jsonwebtoken::decode_header(token).ok().and_then(|h| h.kid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> AccessClaims {
        AccessClaims {
            iss: "http://issuer".into(),
            sub: "usr_1".into(),
            aud: "http://issuer".into(),
            exp,
            iat: 0,
            jti: "j".into(),
            client_id: "c".into(),
            scope: "read".into(),
            gid: None,
            tid: None,
            env: None,
            cid: None,
            roles: None,
            full_access: None,
        }
    }

    fn now() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    #[test]
    fn tokens_round_trip_and_carry_the_at_jwt_type() {
        let set = KeySet::new(vec![generate_key(1).unwrap()], "http://issuer").unwrap();
        let token = set.sign(&claims(now() + 60)).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(header.alg, Algorithm::EdDSA);
        assert_eq!(set.verify(&token).unwrap(), claims(now() + 60));
    }

    #[test]
    fn expired_and_foreign_tokens_are_refused() {
        let set = KeySet::new(vec![generate_key(1).unwrap()], "http://issuer").unwrap();
        let expired = set.sign(&claims(now() - 1)).unwrap();
        assert_eq!(set.verify(&expired), Err(VerifyError::Expired));
        let other = KeySet::new(vec![generate_key(1).unwrap()], "http://issuer").unwrap();
        assert_eq!(
            other.verify(&set.sign(&claims(now() + 60)).unwrap()),
            Err(VerifyError::Invalid)
        );
        let wrong_iss = KeySet::new(vec![], "http://elsewhere").unwrap();
        assert_eq!(wrong_iss.verify("not.a.jwt"), Err(VerifyError::Invalid));
    }

    #[test]
    fn the_newest_key_signs_and_older_keys_still_verify() {
        let old = generate_key(1).unwrap();
        let old_only = KeySet::new(vec![old.clone()], "http://issuer").unwrap();
        let token = old_only.sign(&claims(now() + 60)).unwrap();
        let new = generate_key(2).unwrap();
        let both = KeySet::new(vec![old, new.clone()], "http://issuer").unwrap();
        assert_eq!(both.active_kid(), Some(new.kid.as_str()));
        assert!(both.verify(&token).is_ok());
    }

    #[test]
    fn stored_key_debug_shows_only_the_kid() {
        let k = generate_key(1).unwrap();
        let shown = format!("{k:?}");
        assert!(!shown.contains(&k.private_key));
        assert!(shown.contains(&k.kid));
    }
}
