//! Authorization codes (RFC 6749 §4.1.2): stored by keyed hash, redeemed once, and a replay
//! revokes every token issued from the code (§4.1.2: "SHOULD revoke"). Also the PKCE check a
//! code's redemption needs (RFC 7636 §4.6). Which client may redeem which code is decided in
//! `domain::grants::authorization_code`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::TokenService;
use crate::domain::audit::AuditEvent;
use crate::domain::auth_methods::AuthMethods;
use crate::domain::oauth::is_pkce_string;
use crate::error::Result;
use crate::runtime::invalidation::Stale;
use crate::secret::{RefreshToken, random_token};
use crate::storage::writer::Write;
use crate::storage::{self, tokens::CodeOutcome};

/// Lifetime of an authorization code (RFC 6749 §4.1.2 recommends at most 10 minutes).
pub const CODE_TTL_SECS: i64 = 60;

/// A stored authorization code.
#[derive(Debug, Clone)]
pub struct CodeRecord {
    /// Client it was issued to.
    pub client_id: String,
    /// The approving person's id.
    pub user_id: String,
    /// Redirect URI it was issued for.
    pub redirect_uri: String,
    /// Approved scopes.
    pub scope: String,
    /// Grant extensions (the PKCE challenge; OpenID Connect's `nonce`, `auth_time` and `sid`), JSON as
    /// the authorization endpoint wrote them:
    /// `[{"key":"pkce","private":true,"value":"<challenge>S"}]` (see `pkce_challenge`).
    pub extensions: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// The family its tokens join.
    pub family_id: String,
}

impl TokenService {
    /// Stores a new authorization code and returns it.
    pub async fn create_code(&self, mut record: CodeRecord) -> Result<String> {
        let code = random_token::<32>();
        record.expires_at = record.expires_at.min(self.now() + CODE_TTL_SECS);
        record.family_id = uuid::Uuid::now_v7().to_string();
        self.writer
            .write(Write::InsertCode {
                hash: self.hasher.hash(&code),
                code: record,
                at: self.now(),
            })
            .await?;
        Ok(code)
    }

    /// A code that has not been spent yet, without spending it: what a redemption is judged
    /// on before the code is spent (a mismatched attempt leaves it to its owner).
    pub async fn unspent_code(&self, code: &str) -> Result<Option<CodeRecord>> {
        storage::tokens::find_unspent_code(&self.db, &self.hasher.hash(code)).await
    }

    /// Spends a code once. With `refresh_for` (the code's record, as `unspent_code` read it),
    /// the first refresh token of its family is stored in the same write, so the exchange
    /// costs the writer one trip. Unknown, expired and replayed codes give `None`; a replay
    /// also revokes every token issued from the code.
    pub async fn spend_code(
        &self,
        code: &str,
        refresh_for: Option<&CodeRecord>,
    ) -> Result<Option<(CodeRecord, Option<RefreshToken>)>> {
        let now = self.now();
        let refresh = refresh_for
            .filter(|rec| rec.expires_at > now)
            .map(|rec| self.new_refresh(&rec.family_id, &rec.client_id, &rec.user_id, &rec.scope));
        let (token, refresh) = match refresh {
            Some((token, hash, rec)) => (Some(token), Some((hash, rec))),
            None => (None, None),
        };
        // Spent or unknown codes are presented to the writer too: it recognises a replay. A
        // redemption racing this one is decided there, atomically.
        let spent = self.writer.write(Write::ConsumeCode {
            hash: self.hasher.hash(code),
            at: now,
            refresh,
        });
        match spent.await?.code()? {
            CodeOutcome::Redeemed(rec) if rec.expires_at > now => Ok(Some((rec, token))),
            CodeOutcome::Redeemed(_) | CodeOutcome::Unknown => Ok(None),
            CodeOutcome::Replayed {
                family_id,
                client_id,
                user_id,
            } => {
                self.caches.invalidate(Stale::REVOKED);
                tracing::warn!("authorization code replayed: its token family was revoked");
                self.audit(
                    AuditEvent::here("token.code_replayed")
                        .by("client", &client_id)
                        .about(Some(&user_id))
                        .target(format!("family:{family_id}"))
                        .failed(),
                );
                Ok(None)
            }
        }
    }
}

#[derive(Deserialize)]
struct StoredExtension {
    key: String,
    value: Option<String>,
}

impl CodeRecord {
    /// The OpenID Connect `nonce` the authorization request sent, to be echoed in the ID token
    /// (OpenID Connect Core §3.1.2.1).
    pub fn nonce(&self) -> Option<String> {
        extension(&self.extensions, NONCE)
    }

    /// When the approving person signed in (Unix seconds), if the authorization endpoint knew.
    pub fn auth_time(&self) -> Option<i64> {
        extension(&self.extensions, AUTH_TIME).and_then(|v| v.parse().ok())
    }

    /// The browser session the person approved in (OpenID Connect `sid`), if known.
    pub fn sid(&self) -> Option<String> {
        extension(&self.extensions, SID)
    }

    /// How the person signed in (the `amr` and `acr` of the grant), if the authorization
    /// endpoint knew.
    pub fn methods(&self) -> Option<AuthMethods> {
        extension(&self.extensions, METHODS).and_then(|v| serde_json::from_str(&v).ok())
    }

    /// Whether `verifier` satisfies the PKCE challenge stored with the code (see
    /// `pkce_verified`); an unreadable stored challenge satisfies nothing.
    pub fn pkce_satisfied(&self, verifier: Option<&str>) -> bool {
        pkce_challenge(&self.extensions)
            .is_ok_and(|challenge| pkce_verified(challenge.as_deref(), verifier))
    }
}

/// The extension key of the OpenID Connect `nonce`.
pub const NONCE: &str = "nonce";
/// The extension key of the sign-in time.
pub const AUTH_TIME: &str = "auth_time";
/// The extension key of the browser session's public id.
pub const SID: &str = "sid";
/// The extension key of the sign-in's methods (a JSON list of `AuthMethod`).
pub const METHODS: &str = "auth_methods";

/// The value stored under `key`, if there is one and the extensions can be read.
fn extension(extensions: &str, key: &str) -> Option<String> {
    let rows: Vec<StoredExtension> = serde_json::from_str(extensions).ok()?;
    rows.into_iter().find(|r| r.key == key)?.value
}

/// The S256 challenge stored with a code, `Ok(None)` when the code was issued without one.
/// The stored value is the challenge with a method letter appended (`S`: S256; `p`, plain, is
/// never accepted at the authorization endpoint and so refused here).
fn pkce_challenge(extensions: &str) -> Result<Option<String>, ()> {
    let rows: Vec<StoredExtension> = serde_json::from_str(extensions).map_err(|_| ())?;
    let Some(row) = rows.into_iter().find(|r| r.key == "pkce") else {
        return Ok(None);
    };
    match row.value.as_deref().and_then(|v| v.strip_suffix('S')) {
        Some(challenge) => Ok(Some(challenge.to_owned())),
        None => Err(()),
    }
}

/// RFC 7636 §4.6: the verifier's S256 hash must equal the challenge (compared in constant
/// time). A verifier for a code issued without a challenge is a downgrade and refused; so is a
/// verifier that is not 43–128 unreserved characters (§4.1), and a missing one when a challenge
/// was made.
pub fn pkce_verified(challenge: Option<&str>, verifier: Option<&str>) -> bool {
    match (challenge, verifier) {
        (None, None) => true,
        (None, Some(_)) | (Some(_), None) => false,
        (Some(challenge), Some(verifier)) => {
            let hashed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            is_pkce_string(verifier) && bool::from(hashed.as_bytes().ct_eq(challenge.as_bytes()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge_of(verifier: &str) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
    }

    #[test]
    fn the_stored_s256_challenge_is_read_back() {
        let stored = format!(r#"[{{"key":"pkce","private":true,"value":"{}S"}}]"#, "abc");
        assert_eq!(pkce_challenge(&stored), Ok(Some("abc".into())));
        assert_eq!(pkce_challenge("[]"), Ok(None));
        assert_eq!(
            pkce_challenge(r#"[{"key":"pkce","private":true,"value":"abcp"}]"#),
            Err(()),
            "plain is never accepted"
        );
        assert_eq!(pkce_challenge("not json"), Err(()));
    }

    #[test]
    fn the_nonce_sign_in_time_and_session_are_read_back() {
        let rec = CodeRecord {
            client_id: "c".into(),
            user_id: "u".into(),
            redirect_uri: "https://app/cb".into(),
            scope: "openid".into(),
            extensions: r#"[{"key":"nonce","private":true,"value":"n-1"},
                {"key":"auth_time","private":true,"value":"1700"},
                {"key":"sid","private":true,"value":"s-1"},
                {"key":"auth_methods","private":true,"value":"[\"password\",\"totp\"]"}]"#
                .into(),
            expires_at: 0,
            family_id: "f".into(),
        };
        assert_eq!(rec.nonce().as_deref(), Some("n-1"));
        assert_eq!(rec.auth_time(), Some(1700));
        assert_eq!(rec.sid().as_deref(), Some("s-1"));
        assert_eq!(
            rec.methods().map(|m| m.amr()),
            Some(vec!["pwd", "otp", "mfa"])
        );
        let bare = CodeRecord {
            extensions: "[]".into(),
            ..rec
        };
        assert_eq!(
            (bare.nonce(), bare.auth_time(), bare.sid(), bare.methods()),
            (None, None, None, None)
        );
    }

    #[test]
    fn a_verifier_must_hash_to_the_challenge() {
        let verifier = "v".repeat(43);
        let challenge = challenge_of(&verifier);
        assert!(pkce_verified(Some(&challenge), Some(&verifier)));
        assert!(!pkce_verified(Some(&challenge), Some(&"w".repeat(43))));
        assert!(!pkce_verified(Some(&challenge), None), "verifier missing");
        assert!(pkce_verified(None, None), "no PKCE at all");
    }

    #[test]
    fn downgrades_and_malformed_verifiers_are_refused() {
        assert!(!pkce_verified(None, Some(&"v".repeat(43))), "downgrade");
        let short = "v".repeat(42);
        assert!(!pkce_verified(Some(&challenge_of(&short)), Some(&short)));
    }
}
