//! The keys parsed for use, once per key set: Ed25519 keys sign and verify access tokens and
//! sign EdDSA ID tokens; the newest RSA key signs RS256 ID tokens (relying parties verify those
//! against the JWKS; this server never accepts an ID token as a credential).
//!
//! `jsonwebtoken::encode` and `decode` re-parse the key (a PKCS#8 decode and a scalar
//! multiplication, or a point decompression; for RSA a big-number precomputation) on every
//! call, which cost more than an Ed25519 signature itself on the token endpoint's hot path; the
//! tests prove the two agree byte for byte on what a valid token is.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::pkcs8::DecodePrivateKey;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use jsonwebtoken::{Algorithm, Header};

use super::rsa_key::RsaKey;
use super::{ACCESS_TOKEN_TYPE as TOKEN_TYPE, AccessClaims, ID_TOKEN_TYPE, SigningAlg, StoredKey};
use crate::error::{AppError, Result};

/// An Ed25519 key ready to use: parsed once, so signing and verifying never re-read key
/// material.
struct EdKey {
    kid: String,
    signing: SigningKey,
    verifying: VerifyingKey,
    /// The base64url JOSE header of every access token this key signs: also how `verify`
    /// recognises the key without parsing the header.
    header_b64: String,
    /// The base64url JOSE header of the EdDSA ID tokens this key signs.
    id_header_b64: String,
}

/// The RSA key that signs RS256 ID tokens, with its header.
struct RsKey {
    kid: String,
    key: RsaKey,
    /// The base64url JOSE header of every ID token it signs.
    id_header_b64: String,
}

/// Keys parsed for use: per algorithm the newest active key signs; all Ed25519 keys verify,
/// those still waiting for their activation time included (another node may sign with one a
/// moment before this one switches).
pub struct KeySet {
    /// Newest first.
    ed: Vec<EdKey>,
    /// Which of `ed` signs: the newest active one. Fixed for the set's life, so signing reads
    /// no clock; a set is built anew when a waiting key's time comes (`next_activation`).
    ed_signer: Option<usize>,
    rs: Option<RsKey>,
    issuer: String,
    /// The earliest activation time still ahead when the set was built.
    next_activation: Option<i64>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.ed.iter().map(|k| &k.kid))
            .entries(self.rs.iter().map(|k| &k.kid))
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

/// The base64url JSON of a JOSE header (RFC 7515 §4).
fn header_b64(alg: Algorithm, typ: &str, kid: &str) -> Result<String> {
    let mut header = Header::new(alg);
    header.typ = Some(typ.into());
    header.kid = Some(kid.to_owned());
    let json = serde_json::to_vec(&header).map_err(AppError::internal)?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

fn parse_ed(k: StoredKey) -> Result<EdKey> {
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
    Ok(EdKey {
        header_b64: header_b64(Algorithm::EdDSA, TOKEN_TYPE, &k.kid)?,
        id_header_b64: header_b64(Algorithm::EdDSA, ID_TOKEN_TYPE, &k.kid)?,
        kid: k.kid,
        signing,
        verifying,
    })
}

/// A compact JWS (RFC 7515 §7.1): header and payload, signed by `sign`.
fn compact(
    header_b64: &str,
    payload: &[u8],
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>>,
) -> Result<String> {
    let mut token = String::with_capacity(header_b64.len() + payload.len() * 4 / 3 + 350);
    token.push_str(header_b64);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(payload, &mut token);
    let signature = sign(token.as_bytes())?;
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    Ok(token)
}

impl KeySet {
    /// Parses stored keys as of `now` (Unix seconds): every Ed25519 key, the newest active one
    /// signing, and the newest active RSA key, the only one this server signs with (older ones
    /// stay published from storage). A key whose activation time is still ahead signs only in
    /// a set built at or after that time.
    pub fn new(mut stored: Vec<StoredKey>, issuer: &str, now: i64) -> Result<Self> {
        stored.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.kid.cmp(&a.kid)));
        let next_activation = stored
            .iter()
            .filter_map(|k| k.activates_at)
            .filter(|at| *at > now)
            .min();
        let (ed, rs): (Vec<_>, Vec<_>) =
            stored.into_iter().partition(|k| k.alg == SigningAlg::EdDsa);
        let ed_signer = ed.iter().position(|k| k.is_active(now));
        let ed = ed.into_iter().map(parse_ed).collect::<Result<Vec<_>>>()?;
        let rs = rs
            .iter()
            .find(|k| k.is_active(now))
            .map(|k| {
                Ok::<_, AppError>(RsKey {
                    key: RsaKey::parse(k)?,
                    id_header_b64: header_b64(Algorithm::RS256, ID_TOKEN_TYPE, &k.kid)?,
                    kid: k.kid.clone(),
                })
            })
            .transpose()?;
        Ok(Self {
            ed,
            ed_signer,
            rs,
            issuer: issuer.to_owned(),
            next_activation,
        })
    }

    /// When a key of this set that does not sign yet starts signing (Unix seconds): the set
    /// must then be built again.
    pub fn next_activation(&self) -> Option<i64> {
        self.next_activation
    }

    /// The Ed25519 key that signs.
    fn ed_signer(&self) -> Option<&EdKey> {
        self.ed_signer.and_then(|i| self.ed.get(i))
    }

    /// The id of the key that signs with `alg`, if this set holds one.
    pub fn active_kid(&self, alg: SigningAlg) -> Option<&str> {
        match alg {
            SigningAlg::EdDsa => self.ed_signer().map(|k| k.kid.as_str()),
            SigningAlg::Rs256 => self.rs.as_ref().map(|k| k.kid.as_str()),
        }
    }

    /// Whether this set can sign with `alg`.
    pub fn can_sign(&self, alg: SigningAlg) -> bool {
        self.active_kid(alg).is_some()
    }

    fn active_ed(&self) -> Result<&EdKey> {
        self.ed_signer()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("no Ed25519 signing key")))
    }

    /// Signs claims with the active Ed25519 key: a compact JWS (RFC 7515 §7.1) written straight
    /// into one buffer.
    pub fn sign(&self, claims: &AccessClaims) -> Result<String> {
        let key = self.active_ed()?;
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

    /// Signs an OpenID Connect ID token with the active key of `alg`, under `typ: JWT`;
    /// `verify` refuses it, as it refuses everything but access tokens.
    pub fn sign_id_token<T: serde::Serialize>(
        &self,
        claims: &T,
        alg: SigningAlg,
    ) -> Result<String> {
        let payload = serde_json::to_vec(claims).map_err(AppError::internal)?;
        match alg {
            SigningAlg::EdDsa => {
                let key = self.active_ed()?;
                compact(&key.id_header_b64, &payload, |m| {
                    Ok(key.signing.sign(m).to_vec())
                })
            }
            SigningAlg::Rs256 => {
                let key = self
                    .rs
                    .as_ref()
                    .ok_or_else(|| AppError::internal(anyhow::anyhow!("no RSA signing key")))?;
                compact(&key.id_header_b64, &payload, |m| key.key.sign(m))
            }
        }
    }

    /// Verifies an access token's signature, type, issuer, audience and expiry (as of `now`,
    /// Unix seconds by the caller's clock).
    pub fn verify(&self, token: &str, now: i64) -> Result<AccessClaims, VerifyError> {
        let (signed, signature) = token.rsplit_once('.').ok_or(VerifyError::Invalid)?;
        let (header, payload) = signed.split_once('.').ok_or(VerifyError::Invalid)?;
        // Our own tokens carry a header byte-identical to the key's; anything else is parsed.
        let key = match self.ed.iter().find(|k| k.header_b64 == header) {
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

    /// Verifies an ID token this server signed, presented back as a hint (RP-Initiated Logout
    /// 1.0 §2 `id_token_hint`): its signature by a key of this set, `typ: JWT` (so never an
    /// access token) and the issuer. Expiry is not judged: the specification accepts expired
    /// ID tokens as hints. Returns the claims.
    pub fn verify_id_token(
        &self,
        token: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, VerifyError> {
        let (signed, signature) = token.rsplit_once('.').ok_or(VerifyError::Invalid)?;
        let (_, payload) = signed.split_once('.').ok_or(VerifyError::Invalid)?;
        let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Invalid)?;
        if header.typ.as_deref() != Some(ID_TOKEN_TYPE) {
            return Err(VerifyError::Invalid);
        }
        let kid = header.kid.ok_or(VerifyError::Invalid)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| VerifyError::Invalid)?;
        let genuine = match header.alg {
            Algorithm::EdDSA => {
                let key = self.ed.iter().find(|k| k.kid == kid);
                let key = key.ok_or(VerifyError::UnknownKey(kid))?;
                let raw: [u8; 64] = signature
                    .as_slice()
                    .try_into()
                    .map_err(|_| VerifyError::Invalid)?;
                key.verifying
                    .verify_strict(signed.as_bytes(), &Signature::from_bytes(&raw))
                    .is_ok()
            }
            Algorithm::RS256 => {
                let key = self.rs.as_ref().filter(|k| k.kid == kid);
                let key = key.ok_or(VerifyError::UnknownKey(kid))?;
                key.key.verifies(signed.as_bytes(), &signature)
            }
            _ => false,
        };
        if !genuine {
            return Err(VerifyError::Invalid);
        }
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| VerifyError::Invalid)?;
        let claims: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&payload).map_err(|_| VerifyError::Invalid)?;
        if claims.get("iss").and_then(|v| v.as_str()) != Some(self.issuer.as_str()) {
            return Err(VerifyError::Invalid);
        }
        Ok(claims)
    }

    /// The key a header names, for headers not byte-identical to ours: they must still say
    /// EdDSA and `at+jwt` (RFC 9068 §4).
    fn key_for_header(&self, token: &str) -> Result<&EdKey, VerifyError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Invalid)?;
        if header.alg != Algorithm::EdDSA || header.typ.as_deref() != Some(TOKEN_TYPE) {
            return Err(VerifyError::Invalid);
        }
        let kid = header.kid.ok_or(VerifyError::Invalid)?;
        self.ed
            .iter()
            .find(|k| k.kid == kid)
            .ok_or(VerifyError::UnknownKey(kid))
    }
}

#[cfg(test)]
mod tests {
    use super::super::generate_key;
    use super::*;

    /// The time by the system clock: `jsonwebtoken`'s own checks below read it too.
    fn now() -> i64 {
        crate::clock::Clock::default().now()
    }

    fn ed(created_at: i64) -> StoredKey {
        generate_key(SigningAlg::EdDsa, created_at).unwrap()
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
            amr: None,
            acr: None,
        }
    }

    #[test]
    fn tokens_round_trip_and_carry_the_at_jwt_type() {
        let set = KeySet::new(vec![ed(1)], "http://issuer", 0).unwrap();
        let token = set.sign(&claims(now() + 60)).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(header.alg, Algorithm::EdDSA);
        assert_eq!(set.verify(&token, now()).unwrap(), claims(now() + 60));
    }

    #[test]
    fn expired_and_foreign_tokens_are_refused() {
        let set = KeySet::new(vec![ed(1)], "http://issuer", 0).unwrap();
        let expired = set.sign(&claims(now() - 1)).unwrap();
        assert_eq!(set.verify(&expired, now()), Err(VerifyError::Expired));
        let other = KeySet::new(vec![ed(1)], "http://issuer", 0).unwrap();
        assert!(matches!(
            other.verify(&set.sign(&claims(now() + 60)).unwrap(), now()),
            Err(VerifyError::UnknownKey(_))
        ));
        // Another key under our key's id: the signature does not verify.
        let mut impostor = ed(1);
        impostor.kid = set.active_kid(SigningAlg::EdDsa).unwrap().to_owned();
        let impostor = KeySet::new(vec![impostor], "http://issuer", 0).unwrap();
        assert_eq!(
            set.verify(&impostor.sign(&claims(now() + 60)).unwrap(), now()),
            Err(VerifyError::Invalid)
        );
        let wrong_iss = KeySet::new(vec![], "http://elsewhere", 0).unwrap();
        assert_eq!(
            wrong_iss.verify("not.a.jwt", now()),
            Err(VerifyError::Invalid)
        );
    }

    #[test]
    fn expiry_is_judged_at_the_time_the_caller_gives() {
        let set = KeySet::new(vec![ed(1)], "http://issuer", 0).unwrap();
        let token = set.sign(&claims(1_000)).unwrap();
        assert_eq!(set.verify(&token, 999).unwrap(), claims(1_000));
        // RFC 7519 §4.1.4: not on or after `exp`.
        assert_eq!(set.verify(&token, 1_000), Err(VerifyError::Expired));
    }

    #[test]
    fn the_newest_key_signs_and_older_keys_still_verify() {
        let old = ed(1);
        let old_only = KeySet::new(vec![old.clone()], "http://issuer", 0).unwrap();
        let token = old_only.sign(&claims(now() + 60)).unwrap();
        let new = ed(2);
        let both = KeySet::new(vec![old, new.clone()], "http://issuer", 0).unwrap();
        assert_eq!(both.active_kid(SigningAlg::EdDsa), Some(new.kid.as_str()));
        assert!(both.verify(&token, now()).is_ok());
    }

    #[test]
    fn a_key_waiting_for_its_activation_verifies_but_signs_only_from_then() {
        let (old, old_rsa) = (ed(1), generate_key(SigningAlg::Rs256, 1).unwrap());
        let mut new = ed(2);
        new.activates_at = Some(100);
        let mut new_rsa = generate_key(SigningAlg::Rs256, 2).unwrap();
        new_rsa.activates_at = Some(100);
        let keys = vec![old.clone(), old_rsa.clone(), new.clone(), new_rsa.clone()];

        let before = KeySet::new(keys.clone(), "http://issuer", 99).unwrap();
        assert_eq!(before.active_kid(SigningAlg::EdDsa), Some(old.kid.as_str()));
        assert_eq!(
            before.active_kid(SigningAlg::Rs256),
            Some(old_rsa.kid.as_str())
        );
        assert_eq!(before.next_activation(), Some(100), "built again then");
        let signed_early = KeySet::new(vec![new.clone()], "http://issuer", 100)
            .unwrap()
            .sign(&claims(now() + 60))
            .unwrap();
        assert!(
            before.verify(&signed_early, now()).is_ok(),
            "a node that switched a moment earlier is believed"
        );

        let after = KeySet::new(keys, "http://issuer", 100).unwrap();
        assert_eq!(after.active_kid(SigningAlg::EdDsa), Some(new.kid.as_str()));
        assert_eq!(
            after.active_kid(SigningAlg::Rs256),
            Some(new_rsa.kid.as_str())
        );
        assert_eq!(after.next_activation(), None);
        let by_old = before.sign(&claims(now() + 60)).unwrap();
        assert!(
            after.verify(&by_old, now()).is_ok(),
            "old tokens still verify"
        );
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
        let key = ed(1);
        let set = KeySet::new(vec![key.clone()], "http://issuer", 0).unwrap();
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
        let set = KeySet::new(vec![ed(1)], "http://issuer", 0).unwrap();
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

        let newer = ed(2);
        let other_set = KeySet::new(vec![newer.clone()], "http://issuer", 0).unwrap();
        assert_eq!(
            set.verify(&other_set.sign(&claims(now() + 60)).unwrap(), now()),
            Err(VerifyError::UnknownKey(newer.kid))
        );
    }

    #[test]
    fn a_key_whose_public_half_does_not_match_is_refused() {
        let mut key = ed(1);
        key.public_key = ed(1).public_key;
        assert!(KeySet::new(vec![key], "http://issuer", 0).is_err());
        let mut rsa = generate_key(SigningAlg::Rs256, 1).unwrap();
        rsa.public_key = generate_key(SigningAlg::Rs256, 1).unwrap().public_key;
        assert!(KeySet::new(vec![ed(1), rsa], "http://issuer", 0).is_err());
    }

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct IdClaims {
        iss: String,
        aud: String,
        sub: String,
        exp: i64,
    }

    fn id_claims() -> IdClaims {
        IdClaims {
            iss: "http://issuer".into(),
            aud: "app".into(),
            sub: "usr_1".into(),
            exp: now() + 60,
        }
    }

    fn id_validation(alg: Algorithm) -> jsonwebtoken::Validation {
        let mut v = jsonwebtoken::Validation::new(alg);
        v.set_issuer(&["http://issuer"]);
        v.set_audience(&["app"]);
        v
    }

    #[test]
    fn the_newest_rsa_key_signs_rs256_id_tokens_that_verify_against_its_jwk() {
        let old = generate_key(SigningAlg::Rs256, 1).unwrap();
        let new = generate_key(SigningAlg::Rs256, 2).unwrap();
        let set = KeySet::new(vec![ed(1), old, new.clone()], "http://issuer", 0).unwrap();
        assert_eq!(set.active_kid(SigningAlg::Rs256), Some(new.kid.as_str()));

        let claims = id_claims();
        let token = set.sign_id_token(&claims, SigningAlg::Rs256).unwrap();
        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_value(super::super::public_jwk(&new).unwrap()).unwrap();
        let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
        let decoded =
            jsonwebtoken::decode::<IdClaims>(&token, &key, &id_validation(Algorithm::RS256))
                .unwrap();
        assert_eq!(decoded.claims, claims);
        assert_eq!(decoded.header.kid.as_deref(), Some(new.kid.as_str()));
        assert_eq!(decoded.header.typ.as_deref(), Some("JWT"));
        // An ID token is never an access token.
        assert_eq!(set.verify(&token, now()), Err(VerifyError::Invalid));
    }

    #[test]
    fn eddsa_id_tokens_are_signed_by_the_active_ed25519_key() {
        let key = ed(1);
        let set = KeySet::new(vec![key.clone()], "http://issuer", 0).unwrap();
        assert!(!set.can_sign(SigningAlg::Rs256), "no RSA key yet");
        assert!(set.sign_id_token(&id_claims(), SigningAlg::Rs256).is_err());
        let claims = id_claims();
        let token = set.sign_id_token(&claims, SigningAlg::EdDsa).unwrap();
        let decoded = jsonwebtoken::decode::<IdClaims>(
            &token,
            &decoding_key(&key),
            &id_validation(Algorithm::EdDSA),
        )
        .unwrap();
        assert_eq!(decoded.claims, claims);
        assert_eq!(decoded.header.typ.as_deref(), Some("JWT"));
        assert!(
            set.verify(&token, now()).is_err(),
            "typ JWT is no access token"
        );
    }

    #[test]
    fn id_token_hints_verify_for_both_algorithms_even_expired_and_nothing_else_does() {
        let rsa = generate_key(SigningAlg::Rs256, 1).unwrap();
        let set = KeySet::new(vec![ed(1), rsa], "http://issuer", 0).unwrap();
        for alg in [SigningAlg::Rs256, SigningAlg::EdDsa] {
            let token = set.sign_id_token(&id_claims(), alg).unwrap();
            let claims = set.verify_id_token(&token).unwrap();
            assert_eq!(claims["aud"], "app", "{alg:?}");
            // A flipped signature byte, or another server's key under the same id, fails.
            let (signed, sig) = token.rsplit_once('.').unwrap();
            let mut raw = URL_SAFE_NO_PAD.decode(sig).unwrap();
            raw[0] ^= 1;
            let forged = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(raw));
            assert_eq!(set.verify_id_token(&forged), Err(VerifyError::Invalid));
        }
        let mut expired = id_claims();
        expired.exp = 1;
        let token = set.sign_id_token(&expired, SigningAlg::Rs256).unwrap();
        assert!(
            set.verify_id_token(&token).is_ok(),
            "expired hints are accepted"
        );
        let other = KeySet::new(vec![ed(1)], "http://issuer", 0).unwrap();
        let foreign = other
            .sign_id_token(&id_claims(), SigningAlg::EdDsa)
            .unwrap();
        assert!(matches!(
            set.verify_id_token(&foreign),
            Err(VerifyError::UnknownKey(_))
        ));
        // An access token is no ID token, and another issuer's is not ours.
        let access = set.sign(&claims(now() + 60)).unwrap();
        assert_eq!(set.verify_id_token(&access), Err(VerifyError::Invalid));
        let elsewhere = KeySet::new(vec![ed(1)], "http://elsewhere", 0).unwrap();
        let theirs = elsewhere
            .sign_id_token(&id_claims(), SigningAlg::EdDsa)
            .unwrap();
        assert!(set.verify_id_token(&theirs).is_err());
    }

    #[test]
    fn key_set_debug_shows_only_kids() {
        let rsa = generate_key(SigningAlg::Rs256, 1).unwrap();
        let set = KeySet::new(vec![ed(1), rsa.clone()], "http://issuer", 0).unwrap();
        let shown = format!("{set:?}");
        assert!(shown.contains(&rsa.kid));
        assert!(!shown.contains(&rsa.private_key[..40]));
    }
}
