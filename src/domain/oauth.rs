//! Authorization-request rules that come before oxide-auth runs: RFC 6749 §4.1.2.1 says an
//! unknown client or unregistered redirect URI must never redirect, and every other error must
//! redirect to the client. oxide-auth answers the first with a 500 and misnames some of the
//! second, so the checks are made here, with the exact codes, and oxide-auth then only ever sees
//! a request it will accept. Also here: `ClientReply`, every answer that goes back to the client,
//! in the response mode it asked for. OpenID Connect's interaction parameters (`prompt`,
//! `max_age`, `login_hint`) are read by `domain::oidc_request`.

use url::Url;

use crate::domain::client::{Client, GrantType};
use crate::domain::oidc_request::{self, Interaction};
use crate::domain::scope::ScopeSet;
use crate::error::AppError;
use crate::runtime::cache::Caches;
use crate::storage::Db;

/// The parameters of `GET /oauth/authorize`. Parameters not named here are ignored (RFC 6749
/// §3.1), among them OpenID Connect's `display`, `ui_locales`, `claims_locales`, `acr_values`
/// and `id_token_hint` (Core §3.1.2.1), which change nothing here.
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
    /// OpenID Connect's `prompt` (Core §3.1.2.1): `none`, `login`, `consent`, `select_account`.
    pub prompt: Option<String>,
    /// OpenID Connect's `nonce`, echoed in the ID token (Core §3.1.2.1).
    pub nonce: Option<String>,
    /// `query` (the default) or `form_post` (OAuth 2.0 Form Post Response Mode).
    pub response_mode: Option<String>,
    /// OpenID Connect's `max_age`: the oldest sign-in accepted, in seconds.
    pub max_age: Option<String>,
    /// OpenID Connect's `login_hint`: pre-fills the sign-in page's email field.
    pub login_hint: Option<String>,
    /// OpenID Connect's `acr_values`: `auth_methods::ACR_MULTI` asks for a second factor.
    pub acr_values: Option<String>,
    /// A request object (Core §6.1): not supported.
    pub request: Option<String>,
    /// A request object by reference (Core §6.2): not supported.
    pub request_uri: Option<String>,
    /// Self-issued client registration (Core §7.2.1): not supported.
    pub registration: Option<String>,
}

/// How the answer travels to the client (OAuth 2.0 Multiple Response Type Encoding Practices
/// §2.1). Only the code flow is offered, so `fragment` is never used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ResponseMode {
    /// Parameters in the redirect URI's query (RFC 6749 §4.1.2).
    #[default]
    Query,
    /// A page whose form the browser posts to the redirect URI (OAuth 2.0 Form Post Response
    /// Mode §2).
    FormPost,
}

impl ResponseMode {
    /// The request's `response_mode`; an absent or empty one is `query` (RFC 6749 §3.1: a
    /// parameter without a value is as if omitted). `fragment` is refused: it is for responses
    /// that carry tokens, which this server never returns from the authorization endpoint.
    pub fn parse(raw: Option<&str>) -> Result<Self, &'static str> {
        match raw.filter(|m| !m.is_empty()) {
            None | Some("query") => Ok(Self::Query),
            Some("form_post") => Ok(Self::FormPost),
            Some(_) => Err("response_mode must be query or form_post."),
        }
    }
}

/// An answer for the client, delivered at its registered redirect URI: a code or an error, with
/// `state` and `iss` (RFC 9207), in the response mode the request asked for.
#[derive(Debug, Clone)]
pub struct ClientReply {
    /// The registered redirect URI the answer goes to.
    pub redirect_uri: String,
    /// The answer's parameters, in order.
    pub params: Vec<(String, String)>,
    /// How they travel.
    pub mode: ResponseMode,
}

impl ClientReply {
    /// An error (RFC 6749 §4.1.2.1, OpenID Connect Core §3.1.2.6) with `state` and `iss`.
    pub fn error(
        redirect_uri: &str,
        mode: ResponseMode,
        error: &str,
        description: &str,
        state: Option<&str>,
        issuer: &str,
    ) -> Self {
        let mut params = vec![
            ("error".to_owned(), error.to_owned()),
            ("error_description".to_owned(), description.to_owned()),
        ];
        params.extend(state.map(|s| ("state".to_owned(), s.to_owned())));
        params.push(("iss".to_owned(), issuer.to_owned()));
        Self {
            redirect_uri: redirect_uri.to_owned(),
            params,
            mode,
        }
    }

    /// The redirect URI with the parameters added to its query (`response_mode=query`).
    pub fn url(&self) -> Url {
        let mut url = Url::parse(&self.redirect_uri)
            .unwrap_or_else(|_| Url::parse("about:blank").unwrap_or_else(|_| unreachable!()));
        url.query_pairs_mut().extend_pairs(&self.params);
        url
    }
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
    /// OpenID Connect's `prompt`, `max_age` and `login_hint`.
    pub interaction: Interaction,
    /// OpenID Connect's `nonce`, to be stored with the code.
    pub nonce: Option<String>,
    /// How answers travel to the client.
    pub response_mode: ResponseMode,
    /// This server's issuer, sent with every answer (RFC 9207).
    pub issuer: String,
}

impl ValidAuthorize {
    /// An error for the client at its redirect URI, in the request's response mode.
    pub fn refusal(&self, error: &str, description: &str) -> ClientReply {
        ClientReply::error(
            &self.redirect_uri,
            self.response_mode,
            error,
            description,
            self.state.as_deref(),
            &self.issuer,
        )
    }
}

/// Why an authorization request was refused.
#[derive(Debug)]
pub enum Rejection {
    /// Unknown client or redirect URI: show a page, never redirect.
    Page(String),
    /// Anything else: send the client an error at its redirect URI.
    Redirect(ClientReply),
    /// Storage failed.
    Failed(AppError),
}

/// The longest `nonce` kept with a code: enough for any random value or hash a client sends.
const MAX_NONCE: usize = 512;

/// Checks an authorization request against the registered client.
pub async fn validate(
    db: &Db,
    caches: &Caches,
    issuer: &str,
    p: &AuthorizeParams,
) -> Result<ValidAuthorize, Rejection> {
    let client_id = p
        .client_id
        .as_deref()
        .ok_or_else(|| Rejection::Page("The request has no client_id.".into()))?;
    let unknown = || Rejection::Page("This app is not registered with this server.".into());
    // From the cache: every sign-in through an app starts here.
    let client = crate::domain::client_auth::find_cached(db, caches, client_id)
        .await
        .map_err(Rejection::Failed)?
        .ok_or_else(unknown)?;
    let redirect_uri = client
        .resolve_redirect(p.redirect_uri.as_deref())
        .ok_or_else(|| {
            Rejection::Page("The redirect_uri is not registered for this app.".into())
        })?;
    let reply = |mode: ResponseMode, error: &str, description: &str| {
        Rejection::Redirect(ClientReply::error(
            &redirect_uri,
            mode,
            error,
            description,
            p.state.as_deref(),
            issuer,
        ))
    };
    // Until the response mode is known, errors travel in the query (the default).
    let response_mode = ResponseMode::parse(p.response_mode.as_deref())
        .map_err(|d| reply(ResponseMode::Query, "invalid_request", d))?;
    let fail = |error: &str, description: &str| reply(response_mode, error, description);
    // OpenID Connect Core §6.1, §6.2 and §7.2.1: a provider that does not support request
    // objects or self-issued registration says so with these codes.
    let present = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.is_empty());
    if present(&p.request) {
        return Err(fail(
            "request_not_supported",
            "Request objects are not supported.",
        ));
    }
    if present(&p.request_uri) {
        return Err(fail(
            "request_uri_not_supported",
            "request_uri is not supported.",
        ));
    }
    if present(&p.registration) {
        return Err(fail(
            "registration_not_supported",
            "The registration parameter is not supported.",
        ));
    }
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
    let interaction = oidc_request::read(p).map_err(|d| fail("invalid_request", d))?;
    Ok(ValidAuthorize {
        redirect_uri,
        scopes,
        state: p.state.clone(),
        interaction,
        nonce: p.nonce.clone().filter(|n| !n.is_empty()),
        response_mode,
        issuer: issuer.to_owned(),
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
    ClientReply::error(
        redirect_uri,
        ResponseMode::Query,
        error,
        description,
        state,
        issuer,
    )
    .url()
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

    #[test]
    fn response_modes_are_query_or_form_post() {
        assert_eq!(ResponseMode::parse(None), Ok(ResponseMode::Query));
        assert_eq!(ResponseMode::parse(Some("")), Ok(ResponseMode::Query));
        assert_eq!(ResponseMode::parse(Some("query")), Ok(ResponseMode::Query));
        assert_eq!(
            ResponseMode::parse(Some("form_post")),
            Ok(ResponseMode::FormPost)
        );
        for bad in ["fragment", "FORM_POST", "query.jwt", "form_post "] {
            assert!(ResponseMode::parse(Some(bad)).is_err(), "{bad}");
        }
    }
}
