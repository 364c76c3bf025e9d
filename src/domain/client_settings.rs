//! What a registered app says about itself as an OpenID Connect relying party (both are
//! client metadata of OpenID Connect Dynamic Client Registration 1.0 §2): the algorithm its ID
//! tokens are signed with (`id_token_signed_response_alg`: RS256 unless it asks for EdDSA) and
//! where it may send people after they sign out (`post_logout_redirect_uris`, RP-Initiated
//! Logout 1.0 §3.1, validated like redirect URIs and matched exactly). Beside them, the format
//! of the access tokens it gets (`AccessTokenFormat`: JWT unless it asks for opaque ones).
//!
//! The app's owner changes them under Settings → Developer apps (a server administrator, any
//! app's), the operator with `portcullis client create|set`; each change records
//! `app.settings_changed`.

use serde::Serialize;
use serde_json::json;

use crate::domain::audit::AuditEvent;
use crate::domain::client::{self, Client};
use crate::domain::context::{Actor, Context};
use crate::domain::jwt::SigningAlg;
use crate::domain::redirect_uri;
use crate::error::{AppError, Result};
use crate::runtime::invalidation::Stale;
use crate::storage;

/// An app's OpenID Connect settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OidcSettings {
    /// The algorithm its ID tokens are signed with.
    pub id_token_alg: SigningAlg,
    /// Where it may send people after they sign out, matched exactly.
    pub post_logout_redirect_uris: Vec<String>,
}

impl Default for OidcSettings {
    /// RS256, what relying parties accept unless told otherwise (Core §15.1), and nowhere to go
    /// after signing out.
    fn default() -> Self {
        Self {
            id_token_alg: SigningAlg::Rs256,
            post_logout_redirect_uris: Vec::new(),
        }
    }
}

/// What the access tokens a client gets look like.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessTokenFormat {
    /// A signed JWT (RFC 9068-style claims): self-contained, so resource servers verify it with
    /// the JWKS and no call to this server; revocation reaches them only as fast as they ask.
    #[default]
    Jwt,
    /// An `at_` reference (`secret_format::Kind::AccessToken`) only this server can resolve:
    /// resource servers introspect it (RFC 7662), so revocation is immediate everywhere and the
    /// claims never leave the server.
    Opaque,
}

impl AccessTokenFormat {
    /// Both, in the order a form offers them.
    pub const ALL: [Self; 2] = [Self::Jwt, Self::Opaque];

    /// The stored and typed name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Jwt => "jwt",
            Self::Opaque => "opaque",
        }
    }

    /// How a form names it.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Jwt => "JWT",
            Self::Opaque => "Opaque",
        }
    }

    /// One line on what choosing it means.
    pub const fn explanation(self) -> &'static str {
        match self {
            Self::Jwt => {
                "Self-contained and signed: resource servers verify it themselves with the JWKS."
            }
            Self::Opaque => {
                "A reference only this server can resolve: resource servers call introspection, \
                 and revocation is immediate everywhere."
            }
        }
    }

    /// Parses `jwt` or `opaque`, exactly.
    pub fn parse(raw: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == raw.trim())
            .ok_or_else(|| {
                AppError::validation(
                    "access_token_format",
                    "Access tokens are either jwt or opaque.",
                )
            })
    }

    /// A stored value; anything unknown reads as the default, JWT.
    pub fn from_stored(raw: &str) -> Self {
        Self::parse(raw).unwrap_or_default()
    }
}

impl std::fmt::Display for AccessTokenFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A change of settings: `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct SettingsChange {
    /// New `id_token_signed_response_alg`.
    pub id_token_alg: Option<SigningAlg>,
    /// New post-logout redirect URIs (replacing the list; empty clears it).
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// New access-token format.
    pub access_token_format: Option<AccessTokenFormat>,
}

/// Parses an `id_token_signed_response_alg` (`RS256` or `EdDSA`, exactly).
pub fn parse_alg(raw: &str) -> Result<SigningAlg> {
    SigningAlg::parse(raw.trim()).ok_or_else(|| {
        AppError::validation(
            "id_token_signed_response_alg",
            "ID tokens are signed with RS256 or EdDSA.",
        )
    })
}

/// Validates post-logout redirect URIs as redirect URIs are validated: blank entries dropped,
/// duplicates kept once, each https or http on loopback, without a fragment.
pub fn validate_post_logout_uris(raw: &[String]) -> Result<Vec<String>> {
    let mut uris = Vec::with_capacity(raw.len());
    for uri in raw.iter().map(|u| u.trim()).filter(|u| !u.is_empty()) {
        let uri = redirect_uri::validate_as(uri, "post_logout_redirect_uri")?;
        if !uris.contains(&uri) {
            uris.push(uri);
        }
    }
    Ok(uris)
}

/// Changes an app's settings, for its owner, a server administrator or the operator; anyone
/// else, unknown ids and system credentials are `NotFound`. Nothing is recorded when nothing
/// changed.
pub async fn update(
    ctx: &Context,
    by: Actor<'_>,
    client_id: &str,
    change: SettingsChange,
) -> Result<Client> {
    let mut client = client::get_manageable(ctx, by, client_id).await?;
    let settings = OidcSettings {
        id_token_alg: change.id_token_alg.unwrap_or(client.oidc.id_token_alg),
        post_logout_redirect_uris: match &change.post_logout_redirect_uris {
            Some(uris) => validate_post_logout_uris(uris)?,
            None => client.oidc.post_logout_redirect_uris.clone(),
        },
    };
    let format = change
        .access_token_format
        .unwrap_or(client.access_token_format);
    if settings == client.oidc && format == client.access_token_format {
        return Ok(client);
    }
    // A new format applies to the tokens issued from now on; those already issued keep
    // theirs until they expire.
    storage::clients::update_settings(ctx.db(), &client.id, &settings, format, ctx.now()).await?;
    // The token endpoint reads clients through this cache.
    ctx.caches().invalidate(Stale::CLIENTS);
    let from = snapshot(&client.oidc, client.access_token_format);
    ctx.record(
        by.stamp(AuditEvent::here("app.settings_changed"))
            .about(client.owner_id.as_deref())
            .target(format!("client:{}", client.id))
            .detail(json!({"from": from, "to": snapshot(&settings, format)})),
    );
    client.oidc = settings;
    client.access_token_format = format;
    Ok(client)
}

/// The settings as the audit log shows them.
fn snapshot(oidc: &OidcSettings, format: AccessTokenFormat) -> serde_json::Value {
    let mut v = json!(oidc);
    v["access_token_format"] = json!(format);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_two_algorithms_are_accepted() {
        assert_eq!(parse_alg("RS256").unwrap(), SigningAlg::Rs256);
        assert_eq!(parse_alg("EdDSA").unwrap(), SigningAlg::EdDsa);
        for bad in ["HS256", "none", "rs256", ""] {
            let err = parse_alg(bad).unwrap_err();
            assert!(
                matches!(
                    err,
                    AppError::Validation {
                        field: "id_token_signed_response_alg",
                        ..
                    }
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn access_token_formats_parse_exactly_and_default_to_jwt() {
        assert_eq!(AccessTokenFormat::default(), AccessTokenFormat::Jwt);
        for f in AccessTokenFormat::ALL {
            assert_eq!(AccessTokenFormat::parse(f.as_str()).unwrap(), f);
            assert_eq!(AccessTokenFormat::from_stored(f.as_str()), f);
        }
        for bad in ["JWT", "paseto", "", "opaque2"] {
            let err = AccessTokenFormat::parse(bad).unwrap_err();
            assert!(
                matches!(
                    err,
                    AppError::Validation {
                        field: "access_token_format",
                        ..
                    }
                ),
                "{bad:?}"
            );
        }
        assert_eq!(
            AccessTokenFormat::from_stored("garbage"),
            AccessTokenFormat::Jwt
        );
        assert_eq!(json!(AccessTokenFormat::Opaque), json!("opaque"));
    }

    #[test]
    fn post_logout_uris_follow_the_redirect_uri_rules() {
        let ok = validate_post_logout_uris(&[
            " https://app.example/bye ".into(),
            String::new(),
            "https://app.example/bye".into(),
            "http://127.0.0.1:8000/out".into(),
        ])
        .unwrap();
        assert_eq!(ok, ["https://app.example/bye", "http://127.0.0.1:8000/out"]);
        for bad in [
            "http://app.example/bye",
            "https://app.example/bye#x",
            "javascript:alert(1)",
            "/relative",
        ] {
            let err = validate_post_logout_uris(&[bad.into()]).unwrap_err();
            assert!(
                matches!(
                    err,
                    AppError::Validation {
                        field: "post_logout_redirect_uri",
                        ..
                    }
                ),
                "{bad}"
            );
        }
    }
}
