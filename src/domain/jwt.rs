//! JWT access tokens (RFC 9068) signed with Ed25519 (EdDSA), and the signing keys behind them.
//!
//! Keys live in the database (created on first start, added by `portcullis keys rotate`); each
//! server keeps them parsed in memory. A retired key stays published, and keeps verifying, until
//! every token it signed has expired.
//!
//! Tokens are signed and checked with keys parsed once per key set. `jsonwebtoken::encode` and
//! `decode` re-parse the key (a PKCS#8 decode and a scalar multiplication, or a point
//! decompression) on every call, which cost more than the signature itself on the token
//! endpoint's hot path; the tests prove the two agree byte for byte on what a valid token is.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use jsonwebtoken::{Algorithm, Header};
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
    /// Session tokens: the browser session they belong to (OpenID Connect's session id claim,
    /// Front-Channel Logout 1.0 §3). A random id kept in the session, never its cookie key:
    /// the token dies with the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
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
    let signing = SigningKey::from_bytes(&random_bytes::<32>());
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

/// A key ready to use: parsed once, so signing and verifying never re-read key material.
struct ParsedKey {
    kid: String,
    signing: SigningKey,
    verifying: VerifyingKey,
    /// The base64url JOSE header of every token this key signs: also how `verify` recognises
    /// the key without parsing the header.
    header_b64: String,
}

/// Keys parsed for use: the newest signs, all verify.
pub struct KeySet {
    keys: Vec<ParsedKey>,
    issuer: String,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.keys.iter().map(|k| &k.kid))
            .finish()
    }
}

/// Why a presented access token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// Well-formed and signed by us, but past `exp`.
    Expired,
    /// Well-formed, but names a key this set does not hold (another node may have added it).
    UnknownKey(String),
    /// Anything else: malformed, bad signature, wrong type, issuer or audience.
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
                let signing = SigningKey::from_pkcs8_der(&der)
                    .map_err(|e| AppError::internal(anyhow::anyhow!("pkcs8: {e}")))?;
                let verifying = signing.verifying_key();
                if URL_SAFE_NO_PAD.encode(verifying.as_bytes()) != k.public_key {
                    return Err(AppError::internal(anyhow::anyhow!(
                        "key {}: the public key does not match the private key",
                        k.kid
                    )));
                }
                let mut header = Header::new(Algorithm::EdDSA);
                header.typ = Some(TOKEN_TYPE.into());
                header.kid = Some(k.kid.clone());
                let header_json = serde_json::to_vec(&header).map_err(AppError::internal)?;
                Ok(ParsedKey {
                    header_b64: URL_SAFE_NO_PAD.encode(header_json),
                    kid: k.kid,
                    signing,
                    verifying,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            keys,
            issuer: issuer.to_owned(),
        })
    }

    /// The id of the key that signs.
    pub fn active_kid(&self) -> Option<&str> {
        self.keys.first().map(|k| k.kid.as_str())
    }

    /// Signs claims with the active key: a compact JWS (RFC 7515 §7.1) written straight into
    /// one buffer.
    pub fn sign(&self, claims: &AccessClaims) -> Result<String> {
        let key = self
            .keys
            .first()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("no signing key")))?;
        let payload = serde_json::to_vec(claims).map_err(AppError::internal)?;
        let mut token = String::with_capacity(key.header_b64.len() + payload.len() * 4 / 3 + 90);
        token.push_str(&key.header_b64);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
        let signature = key.signing.sign(token.as_bytes());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.to_bytes(), &mut token);
        Ok(token)
    }

    /// Signs other claims (an OpenID Connect ID token) with the active key under the JOSE
    /// `typ` given; `verify` refuses them, as it refuses everything but access tokens.
    pub fn sign_typed<T: serde::Serialize>(&self, claims: &T, typ: &str) -> Result<String> {
        let key = self
            .keys
            .first()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("no signing key")))?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(typ.into());
        header.kid = Some(key.kid.clone());
        let header_json = serde_json::to_vec(&header).map_err(AppError::internal)?;
        let payload = serde_json::to_vec(claims).map_err(AppError::internal)?;
        let mut token = URL_SAFE_NO_PAD.encode(header_json);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
        let signature = key.signing.sign(token.as_bytes());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.to_bytes(), &mut token);
        Ok(token)
    }

    /// Verifies a token's signature, type, issuer, audience and expiry (as of `now`, Unix
    /// seconds by the caller's clock).
    pub fn verify(&self, token: &str, now: i64) -> Result<AccessClaims, VerifyError> {
        let (signed, signature) = token.rsplit_once('.').ok_or(VerifyError::Invalid)?;
        let (header, payload) = signed.split_once('.').ok_or(VerifyError::Invalid)?;
        // Our own tokens carry a header byte-identical to the key's; anything else is parsed.
        let key = match self.keys.iter().find(|k| k.header_b64 == header) {
            Some(key) => key,
            None => self.key_for_header(token)?,
        };
        let mut raw = [0u8; 64];
        match URL_SAFE_NO_PAD.decode_slice(signature, &mut raw) {
            Ok(64) => {}
            _ => return Err(VerifyError::Invalid),
        }
        key.verifying
            .verify_strict(signed.as_bytes(), &Signature::from_bytes(&raw))
            .map_err(|_| VerifyError::Invalid)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| VerifyError::Invalid)?;
        let claims: AccessClaims =
            serde_json::from_slice(&payload).map_err(|_| VerifyError::Invalid)?;
        // RFC 7519 §4.1.4: valid only strictly before `exp`; no leeway, we are the issuer.
        // Checked before the addressing, as jsonwebtoken does: the signature is ours already.
        if claims.exp <= now {
            return Err(VerifyError::Expired);
        }
        if claims.iss != self.issuer || claims.aud != self.issuer {
            return Err(VerifyError::Invalid);
        }
        Ok(claims)
    }

    /// The key a header names, for headers not byte-identical to ours: they must still say
    /// EdDSA and `at+jwt` (RFC 9068 §4).
    fn key_for_header(&self, token: &str) -> Result<&ParsedKey, VerifyError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Invalid)?;
        if header.alg != Algorithm::EdDSA || header.typ.as_deref() != Some(TOKEN_TYPE) {
            return Err(VerifyError::Invalid);
        }
        let kid = header.kid.ok_or(VerifyError::Invalid)?;
        self.keys
            .iter()
            .find(|k| k.kid == kid)
            .ok_or(VerifyError::UnknownKey(kid))
    }
}

/// The JOSE `typ` of access tokens (RFC 9068 §2.1).
const TOKEN_TYPE: &str = "at+jwt";

/// The key set shared by all workers, replaceable when keys are rotated.
#[derive(Clone)]
pub struct Keys {
    set: Arc<RwLock<Arc<KeySet>>>,
    /// When a token named an unknown key last made us reload (Unix seconds): forged key ids
    /// must not turn every request into a database read.
    last_unknown_reload: Arc<AtomicI64>,
}

impl Keys {
    /// Wraps a parsed set.
    pub fn new(set: KeySet) -> Self {
        Self {
            set: Arc::new(RwLock::new(Arc::new(set))),
            last_unknown_reload: Arc::new(AtomicI64::new(0)),
        }
    }

    /// The current set (a cheap clone of an `Arc`).
    pub fn current(&self) -> Arc<KeySet> {
        match self.set.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Installs a newly loaded set.
    pub fn replace(&self, set: KeySet) {
        match self.set.write() {
            Ok(mut guard) => *guard = Arc::new(set),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(set),
        }
    }

    /// Whether a token naming an unknown key may trigger a reload at `now` (Unix seconds): at
    /// most once a second.
    pub fn may_reload_for_unknown_key(&self, now: i64) -> bool {
        let last = self.last_unknown_reload.load(Ordering::Relaxed);
        last != now
            && self
                .last_unknown_reload
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The time by the system clock: `jsonwebtoken`'s own checks below read it too.
    fn now() -> i64 {
        crate::clock::Clock::default().now()
    }

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
            sid: None,
        }
    }

    #[test]
    fn tokens_round_trip_and_carry_the_at_jwt_type() {
        let set = KeySet::new(vec![generate_key(1).unwrap()], "http://issuer").unwrap();
        let token = set.sign(&claims(now() + 60)).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(header.alg, Algorithm::EdDSA);
        assert_eq!(set.verify(&token, now()).unwrap(), claims(now() + 60));
    }

    #[test]
    fn expired_and_foreign_tokens_are_refused() {
        let set = KeySet::new(vec![generate_key(1).unwrap()], "http://issuer").unwrap();
        let expired = set.sign(&claims(now() - 1)).unwrap();
        assert_eq!(set.verify(&expired, now()), Err(VerifyError::Expired));
        let other = KeySet::new(vec![generate_key(1).unwrap()], "http://issuer").unwrap();
        assert!(matches!(
            other.verify(&set.sign(&claims(now() + 60)).unwrap(), now()),
            Err(VerifyError::UnknownKey(_))
        ));
        // Another key under our key's id: the signature does not verify.
        let mut impostor = generate_key(1).unwrap();
        impostor.kid = set.active_kid().unwrap().to_owned();
        let impostor = KeySet::new(vec![impostor], "http://issuer").unwrap();
        assert_eq!(
            set.verify(&impostor.sign(&claims(now() + 60)).unwrap(), now()),
            Err(VerifyError::Invalid)
        );
        let wrong_iss = KeySet::new(vec![], "http://elsewhere").unwrap();
        assert_eq!(
            wrong_iss.verify("not.a.jwt", now()),
            Err(VerifyError::Invalid)
        );
    }

    #[test]
    fn expiry_is_judged_at_the_time_the_caller_gives() {
        let set = KeySet::new(vec![generate_key(1).unwrap()], "http://issuer").unwrap();
        let token = set.sign(&claims(1_000)).unwrap();
        assert_eq!(set.verify(&token, 999).unwrap(), claims(1_000));
        // RFC 7519 §4.1.4: not on or after `exp`.
        assert_eq!(set.verify(&token, 1_000), Err(VerifyError::Expired));
    }

    #[test]
    fn an_unknown_key_triggers_at_most_one_reload_a_second() {
        let keys = Keys::new(KeySet::new(vec![], "http://issuer").unwrap());
        assert!(keys.may_reload_for_unknown_key(100));
        assert!(!keys.may_reload_for_unknown_key(100));
        assert!(keys.may_reload_for_unknown_key(101));
    }

    #[test]
    fn the_newest_key_signs_and_older_keys_still_verify() {
        let old = generate_key(1).unwrap();
        let old_only = KeySet::new(vec![old.clone()], "http://issuer").unwrap();
        let token = old_only.sign(&claims(now() + 60)).unwrap();
        let new = generate_key(2).unwrap();
        let both = KeySet::new(vec![old, new.clone()], "http://issuer").unwrap();
        assert_eq!(both.active_kid(), Some(new.kid.as_str()));
        assert!(both.verify(&token, now()).is_ok());
    }

    fn decoding_key(k: &StoredKey) -> jsonwebtoken::DecodingKey {
        jsonwebtoken::DecodingKey::from_ed_components(&k.public_key).unwrap()
    }

    fn validation() -> jsonwebtoken::Validation {
        let mut v = jsonwebtoken::Validation::new(Algorithm::EdDSA);
        v.set_issuer(&["http://issuer"]);
        v.set_audience(&["http://issuer"]);
        v
    }

    #[test]
    fn tokens_verify_with_a_standard_jwt_library_and_the_other_way_round() {
        let key = generate_key(1).unwrap();
        let set = KeySet::new(vec![key.clone()], "http://issuer").unwrap();
        let ours = set.sign(&claims(now() + 60)).unwrap();
        let theirs =
            jsonwebtoken::decode::<AccessClaims>(&ours, &decoding_key(&key), &validation())
                .unwrap();
        assert_eq!(theirs.claims, claims(now() + 60));
        assert_eq!(theirs.header.kid.as_deref(), Some(key.kid.as_str()));

        // A token jsonwebtoken signed with our key (its header bytes may differ) verifies too.
        let der = STANDARD.decode(&key.private_key).unwrap();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.kid.clone());
        header.typ = Some("at+jwt".into());
        header.cty = Some("x".into());
        let foreign = jsonwebtoken::encode(
            &header,
            &claims(now() + 60),
            &jsonwebtoken::EncodingKey::from_ed_der(&der),
        )
        .unwrap();
        assert_eq!(set.verify(&foreign, now()).unwrap(), claims(now() + 60));
        // ... but not without the access-token type (RFC 9068 §4).
        header.typ = Some("JWT".into());
        let untyped = jsonwebtoken::encode(
            &header,
            &claims(now() + 60),
            &jsonwebtoken::EncodingKey::from_ed_der(&der),
        )
        .unwrap();
        assert_eq!(set.verify(&untyped, now()), Err(VerifyError::Invalid));
    }

    #[test]
    fn tampered_unsigned_and_misaddressed_tokens_are_refused() {
        let key = generate_key(1).unwrap();
        let set = KeySet::new(vec![key.clone()], "http://issuer").unwrap();
        let token = set.sign(&claims(now() + 60)).unwrap();
        let parts: Vec<&str> = token.split('.').collect();

        let mut forged = claims(now() + 60);
        forged.sub = "usr_admin".into();
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        let tampered = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
        assert_eq!(set.verify(&tampered, now()), Err(VerifyError::Invalid));

        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
        assert_eq!(
            set.verify(&format!("{none_header}.{}.", parts[1]), now()),
            Err(VerifyError::Invalid)
        );
        assert_eq!(
            set.verify(&format!("{}.{}.AAAA", parts[0], parts[1]), now()),
            Err(VerifyError::Invalid)
        );
        assert_eq!(
            set.verify(&format!("{}.{}", parts[0], parts[1]), now()),
            Err(VerifyError::Invalid)
        );

        let mut elsewhere = claims(now() + 60);
        elsewhere.aud = "http://other".into();
        assert_eq!(
            set.verify(&set.sign(&elsewhere).unwrap(), now()),
            Err(VerifyError::Invalid)
        );

        let newer = generate_key(2).unwrap();
        let other_set = KeySet::new(vec![newer.clone()], "http://issuer").unwrap();
        assert_eq!(
            set.verify(&other_set.sign(&claims(now() + 60)).unwrap(), now()),
            Err(VerifyError::UnknownKey(newer.kid))
        );
    }

    #[test]
    fn a_key_whose_public_half_does_not_match_is_refused() {
        let mut key = generate_key(1).unwrap();
        key.public_key = generate_key(1).unwrap().public_key;
        assert!(KeySet::new(vec![key], "http://issuer").is_err());
    }

    #[test]
    fn stored_key_debug_shows_only_the_kid() {
        let k = generate_key(1).unwrap();
        let shown = format!("{k:?}");
        assert!(!shown.contains(&k.private_key));
        assert!(shown.contains(&k.kid));
    }
}
