//! Authorization-request rules that come before oxide-auth runs: RFC 6749 §4.1.2.1 says an
//! unknown client or unregistered redirect URI must never redirect, and every other error must
//! redirect to the client. oxide-auth answers the first with a 500 and misnames some of the
//! second, so the checks are made here, with the exact codes, and oxide-auth then only ever sees
//! a request it will accept.

use url::Url;

use crate::domain::client::{Client, GrantType};
use crate::domain::scope::ScopeSet;
use crate::error::AppError;
use crate::storage::{self, Db};

/// The parameters of `GET /oauth/authorize`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct AuthorizeParams {
    /// Client id.
    pub client_id: Option<String>,
    /// Redirect URI (optional when exactly one is registered).
    pub redirect_uri: Option<String>,
    /// Must be `code`.
    pub response_type: Option<String>,
    /// Space-separated scopes; omitted means the client's allowed scopes.
    pub scope: Option<String>,
    /// Opaque client state, returned unchanged.
    pub state: Option<String>,
    /// PKCE challenge (RFC 7636).
    pub code_challenge: Option<String>,
    /// PKCE method: only `S256`.
    pub code_challenge_method: Option<String>,
    /// `consent` forces the consent page.
    pub prompt: Option<String>,
    /// OpenID Connect's `nonce`, echoed in the ID token (Core §3.1.2.1).
    pub nonce: Option<String>,
}

/// An authorization request that passed every check.
#[derive(Debug, Clone)]
pub struct ValidAuthorize {
    /// The client.
    pub client: Client,
    /// Where the answer goes.
    pub redirect_uri: String,
    /// Requested (or default) scopes, all allowed for the client.
    pub scopes: ScopeSet,
    /// Client state.
    pub state: Option<String>,
    /// `prompt=consent` was sent.
    pub prompt_consent: bool,
    /// OpenID Connect's `nonce`, to be stored with the code.
    pub nonce: Option<String>,
}

/// Why an authorization request was refused.
#[derive(Debug)]
pub enum Rejection {
    /// Unknown client or redirect URI: show a page, never redirect.
    Page(String),
    /// Anything else: send the client an error at its redirect URI.
    Redirect(Url),
    /// Storage failed.
    Failed(AppError),
}

/// The longest `nonce` kept with a code: enough for any random value or hash a client sends.
const MAX_NONCE: usize = 512;

/// Checks an authorization request against the registered client.
pub async fn validate(
    db: &Db,
    issuer: &str,
    p: &AuthorizeParams,
) -> Result<ValidAuthorize, Rejection> {
    let client_id = p
        .client_id
        .as_deref()
        .ok_or_else(|| Rejection::Page("The request has no client_id.".into()))?;
    let unknown = || Rejection::Page("This app is not registered with this server.".into());
    if !crate::domain::client::is_issued_id(client_id) {
        return Err(unknown());
    }
    let client = storage::clients::find_client(db, client_id)
        .await
        .map_err(Rejection::Failed)?
        .ok_or_else(unknown)?;
    let redirect_uri = client
        .resolve_redirect(p.redirect_uri.as_deref())
        .ok_or_else(|| {
            Rejection::Page("The redirect_uri is not registered for this app.".into())
        })?;
    let fail = |error: &str, description: &str| {
        Rejection::Redirect(error_redirect(
            &redirect_uri,
            error,
            description,
            p.state.as_deref(),
            issuer,
        ))
    };
    match p.response_type.as_deref() {
        Some("code") => {}
        Some(_) => {
            return Err(fail(
                "unsupported_response_type",
                "Only response_type=code is supported.",
            ));
        }
        None => return Err(fail("invalid_request", "response_type is required.")),
    }
    if !client.allows(GrantType::AuthorizationCode) {
        return Err(fail(
            "unauthorized_client",
            "This app may not use the authorization code grant.",
        ));
    }
    let scopes = match p.scope.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => client.scopes.clone(),
        Some(raw) => ScopeSet::parse(raw).map_err(|e| fail("invalid_scope", &e.to_string()))?,
    };
    if !client.scopes.contains_all(&scopes) {
        let extra = scopes.minus(&client.scopes);
        return Err(fail(
            "invalid_scope",
            &format!("This app may not request: {extra}"),
        ));
    }
    check_pkce(&client, p).map_err(|d| fail("invalid_request", d))?;
    if p.nonce.as_ref().is_some_and(|n| n.len() > MAX_NONCE) {
        return Err(fail("invalid_request", "The nonce is too long."));
    }
    Ok(ValidAuthorize {
        redirect_uri,
        scopes,
        state: p.state.clone(),
        prompt_consent: p
            .prompt
            .as_deref()
            .is_some_and(|v| v.split(' ').any(|w| w == "consent")),
        nonce: p.nonce.clone().filter(|n| !n.is_empty()),
        client,
    })
}

/// RFC 7636 with OAuth 2.1's rules: S256 only; public clients must use it.
fn check_pkce(client: &Client, p: &AuthorizeParams) -> Result<(), &'static str> {
    match (
        p.code_challenge.as_deref(),
        p.code_challenge_method.as_deref(),
    ) {
        (None, Some(_)) => Err("code_challenge_method without code_challenge."),
        (None, None) if client.is_public => {
            Err("Public clients must use PKCE (code_challenge with S256).")
        }
        (None, None) => Ok(()),
        (Some(_), Some("plain")) => Err("code_challenge_method=plain is not allowed; use S256."),
        (Some(_), None) => Err("code_challenge_method=S256 is required."),
        (Some(_), Some(m)) if m != "S256" => Err("Unsupported code_challenge_method; use S256."),
        (Some(c), Some(_)) if !is_pkce_string(c) => {
            Err("code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~].")
        }
        (Some(_), Some(_)) => Ok(()),
    }
}

/// RFC 7636 §4.1: 43–128 unreserved characters (verifiers and S256 challenges alike).
pub fn is_pkce_string(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// The redirect that reports an authorization error to the client (RFC 6749 §4.1.2.1, with
/// RFC 9207's `iss`).
pub fn error_redirect(
    redirect_uri: &str,
    error: &str,
    description: &str,
    state: Option<&str>,
    issuer: &str,
) -> Url {
    let mut url = Url::parse(redirect_uri)
        .unwrap_or_else(|_| Url::parse("about:blank").unwrap_or_else(|_| unreachable!()));
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("error", error)
            .append_pair("error_description", description);
        if let Some(state) = state {
            q.append_pair("state", state);
        }
        q.append_pair("iss", issuer);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_strings_follow_rfc_7636() {
        assert!(is_pkce_string(&"a".repeat(43)));
        assert!(is_pkce_string(&"A-._~9".repeat(8)));
        assert!(!is_pkce_string(&"a".repeat(42)));
        assert!(!is_pkce_string(&"a".repeat(129)));
        assert!(!is_pkce_string(&format!("{}+", "a".repeat(43))));
    }

    #[test]
    fn error_redirects_carry_state_and_issuer() {
        let url = error_redirect(
            "https://app.example/cb?x=1",
            "access_denied",
            "no",
            Some("s t"),
            "https://auth",
        );
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(pairs[0], ("x".into(), "1".into()));
        assert!(pairs.contains(&("error".into(), "access_denied".into())));
        assert!(pairs.contains(&("state".into(), "s t".into())));
        assert!(pairs.contains(&("iss".into(), "https://auth".into())));
    }
}
