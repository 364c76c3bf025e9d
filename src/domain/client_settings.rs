//! What a registered app says about itself as an OpenID Connect relying party (both are
//! client metadata of OpenID Connect Dynamic Client Registration 1.0 §2): the algorithm its ID
//! tokens are signed with (`id_token_signed_response_alg`: RS256 unless it asks for EdDSA) and
//! where it may send people after they sign out (`post_logout_redirect_uris`, RP-Initiated
//! Logout 1.0 §3.1, validated like redirect URIs and matched exactly).
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

/// A change of settings: `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct SettingsChange {
    /// New `id_token_signed_response_alg`.
    pub id_token_alg: Option<SigningAlg>,
    /// New post-logout redirect URIs (replacing the list; empty clears it).
    pub post_logout_redirect_uris: Option<Vec<String>>,
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
    if settings == client.oidc {
        return Ok(client);
    }
    storage::clients::update_oidc_settings(ctx.db(), &client.id, &settings, ctx.now()).await?;
    // The token endpoint reads clients through this cache.
    ctx.caches().invalidate(Stale::CLIENTS);
    ctx.record(
        by.stamp(AuditEvent::here("app.settings_changed"))
            .about(client.owner_id.as_deref())
            .target(format!("client:{}", client.id))
            .detail(json!({"from": client.oidc, "to": settings})),
    );
    client.oidc = settings;
    Ok(client)
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
