//! oxide-auth's primitives for the authorization endpoint, through oxide-auth-async's async
//! traits so database work never blocks an actix worker. They hold no persistence of their own:
//! the `Registrar` works from the one client `domain::oauth` already resolved, and the
//! `Authorizer` hands codes to `domain::tokens`. The token endpoint runs no oxide-auth flow: its
//! grants are domain operations (`domain::grants`), which redeem what is stored here.
//!
//! Built fresh for each request (a handful of clones), with a consent decision made before the
//! flow runs, and oxide-auth's PKCE addon (S256 only) recording the challenge with the code.

use std::borrow::Cow;

use async_trait::async_trait;
use oxide_auth::endpoint::{
    OAuthError as OxideError, OwnerConsent, OwnerSolicitor, Scopes, Solicitation, Template,
};
use oxide_auth::frontends::simple::extensions::{AddonList, Pkce};
use oxide_auth::primitives::grant::{Extensions, Grant};
use oxide_auth::primitives::registrar::{
    BoundClient, ClientUrl, ExactUrl, PreGrant, RegisteredUrl, RegistrarError,
};
use oxide_auth::primitives::scope::Scope;
use oxide_auth_actix::{OAuthRequest, OAuthResponse, WebError};
use oxide_auth_async::endpoint::{Endpoint, Extension, OwnerSolicitor as AsyncSolicitor};
use oxide_auth_async::primitives::{Authorizer, Issuer, Registrar};
use serde::Serialize;

use crate::domain::auth_methods::AuthMethods;
use crate::domain::client::Client;
use crate::domain::scope::ScopeSet;
use crate::domain::tokens::{AUTH_TIME, CodeRecord, METHODS, NONCE, SID, TokenService};
use crate::state::AppState;

/// The resource owner's decision, made before the flow runs.
pub enum Decision {
    /// Approved for this user id.
    Allow(String),
    /// Refused.
    Deny,
}

impl OwnerSolicitor<OAuthRequest> for Decision {
    fn check_consent(
        &mut self,
        _: &mut OAuthRequest,
        _: Solicitation,
    ) -> OwnerConsent<OAuthResponse> {
        match self {
            Decision::Allow(user) => OwnerConsent::Authorized(user.clone()),
            Decision::Deny => OwnerConsent::Denied,
        }
    }
}

/// The addons every authorization request uses: PKCE, S256 only (`plain` is refused), optional
/// here because `domain::oauth` already requires it of public clients.
pub fn addons() -> AddonList {
    let mut list = AddonList::new();
    list.push_code(Pkce::optional());
    list
}

/// A registrar that knows exactly one, already resolved, client.
struct ClientRegistrar {
    client: Client,
}

#[async_trait]
impl Registrar for ClientRegistrar {
    async fn bound_redirect<'a>(
        &self,
        bound: ClientUrl<'a>,
    ) -> Result<BoundClient<'a>, RegistrarError> {
        if bound.client_id.as_ref() != self.client.id {
            return Err(RegistrarError::Unspecified);
        }
        let requested = bound.redirect_uri.as_ref().map(|u| u.as_str().to_owned());
        // Requests without a redirect URI were already refused unless exactly one is
        // registered.
        let resolved = self
            .client
            .resolve_redirect(requested.as_deref())
            .ok_or(RegistrarError::Unspecified)?;
        let exact: ExactUrl = resolved.parse().map_err(|_| RegistrarError::Unspecified)?;
        Ok(BoundClient {
            client_id: bound.client_id,
            redirect_uri: Cow::Owned(RegisteredUrl::Exact(exact)),
        })
    }

    async fn negotiate<'a>(
        &self,
        bound: BoundClient<'a>,
        scope: Option<Scope>,
    ) -> Result<PreGrant, RegistrarError> {
        let scopes = match scope {
            Some(s) => ScopeSet::parse(&s.to_string()).map_err(|_| RegistrarError::Unspecified)?,
            None => self.client.scopes.clone(),
        };
        if !self.client.scopes.contains_all(&scopes) {
            return Err(RegistrarError::Unspecified);
        }
        Ok(PreGrant {
            client_id: bound.client_id.into_owned(),
            redirect_uri: bound.redirect_uri.into_owned(),
            scope: scopes
                .to_string()
                .parse()
                .map_err(|_| RegistrarError::Unspecified)?,
        })
    }

    async fn check(
        &self,
        client_id: &str,
        _passphrase: Option<&[u8]>,
    ) -> Result<(), RegistrarError> {
        // The authorization endpoint authenticates no client; it only names one.
        if client_id == self.client.id {
            Ok(())
        } else {
            Err(RegistrarError::Unspecified)
        }
    }
}

/// Stores authorization codes through `domain::tokens`. Codes are redeemed by
/// `domain::grants::authorization_code`, never through this adapter.
struct CodeAuthorizer {
    tokens: TokenService,
    oidc: OidcContext,
}

/// What OpenID Connect keeps with a code besides oxide-auth's grant: the request's `nonce`, when
/// the person signed in and the browser session they approved in, all for the ID token.
#[derive(Debug, Clone, Default)]
pub struct OidcContext {
    /// The authorization request's `nonce`.
    pub nonce: Option<String>,
    /// The browser session's sign-in time (Unix seconds).
    pub auth_time: Option<i64>,
    /// The browser session's public id (the ID token's `sid`).
    pub sid: Option<String>,
    /// How the session signed in (the tokens' `amr` and `acr`).
    pub methods: Option<AuthMethods>,
}

impl OidcContext {
    fn rows(&self) -> impl Iterator<Item = StoredExtension> + '_ {
        let nonce = self.nonce.clone().map(|n| (NONCE, n));
        let auth_time = self.auth_time.map(|t| (AUTH_TIME, t.to_string()));
        let sid = self.sid.clone().map(|s| (SID, s));
        let methods = self
            .methods
            .as_ref()
            .and_then(|m| serde_json::to_string(m).ok())
            .map(|m| (METHODS, m));
        nonce
            .into_iter()
            .chain(auth_time)
            .chain(sid)
            .chain(methods)
            .map(|(key, value)| StoredExtension {
                key: key.into(),
                private: true,
                value: Some(value),
            })
    }
}

#[async_trait]
impl Authorizer for CodeAuthorizer {
    async fn authorize(&mut self, grant: Grant) -> Result<String, ()> {
        let record = CodeRecord {
            client_id: grant.client_id,
            user_id: grant.owner_id,
            redirect_uri: grant.redirect_uri.to_string(),
            scope: grant.scope.to_string(),
            extensions: extensions_to_json(&grant.extensions, &self.oidc)?,
            expires_at: grant.until.timestamp(),
            family_id: String::new(),
        };
        self.tokens.create_code(record).await.map_err(|err| {
            tracing::error!(
                error = format!("{err:#}"),
                "storing an authorization code failed"
            );
        })
    }

    async fn extract(&mut self, _code: &str) -> Result<Option<Grant>, ()> {
        Ok(None)
    }
}

/// One stored grant extension, in the shape `domain::tokens::CodeRecord` documents.
#[derive(Serialize)]
struct StoredExtension {
    key: String,
    private: bool,
    value: Option<String>,
}

fn extensions_to_json(ext: &Extensions, oidc: &OidcContext) -> Result<String, ()> {
    let public = ext.public().map(|(k, v)| (k, false, v));
    let private = ext.private().map(|(k, v)| (k, true, v));
    let rows: Vec<StoredExtension> = public
        .chain(private)
        .map(|(key, private, value)| StoredExtension {
            key: key.into(),
            private,
            value: value.map(Into::into),
        })
        .chain(oidc.rows())
        .collect();
    serde_json::to_string(&rows).map_err(|_| ())
}

/// One authorization request's endpoint.
pub struct FlowEndpoint {
    registrar: ClientRegistrar,
    authorizer: CodeAuthorizer,
    decision: Decision,
    addons: AddonList,
    scopes: Vec<Scope>,
}

impl FlowEndpoint {
    /// An endpoint for `client` with a decided consent; `oidc` is stored with the code.
    pub fn new(state: &AppState, client: Client, decision: Decision, oidc: OidcContext) -> Self {
        Self {
            registrar: ClientRegistrar { client },
            authorizer: CodeAuthorizer {
                tokens: state.tokens.clone(),
                oidc,
            },
            decision,
            addons: state.oauth_addons.clone(),
            scopes: Vec::new(),
        }
    }
}

impl Endpoint<OAuthRequest> for FlowEndpoint {
    type Error = WebError;

    fn registrar(&self) -> Option<&(dyn Registrar + Sync)> {
        Some(&self.registrar)
    }

    fn authorizer_mut(&mut self) -> Option<&mut (dyn Authorizer + Send)> {
        Some(&mut self.authorizer)
    }

    fn issuer_mut(&mut self) -> Option<&mut (dyn Issuer + Send)> {
        // Tokens are issued by `domain::grants`, never by an oxide-auth flow.
        None
    }

    fn owner_solicitor(&mut self) -> Option<&mut (dyn AsyncSolicitor<OAuthRequest> + Send)> {
        Some(&mut self.decision)
    }

    fn scopes(&mut self) -> Option<&mut dyn Scopes<OAuthRequest>> {
        Some(&mut self.scopes)
    }

    fn response(&mut self, _: &mut OAuthRequest, _: Template) -> Result<OAuthResponse, WebError> {
        Ok(OAuthResponse::ok())
    }

    fn error(&mut self, err: OxideError) -> WebError {
        WebError::Endpoint(err)
    }

    fn web_error(&mut self, err: WebError) -> WebError {
        err
    }

    fn extension(&mut self) -> Option<&mut (dyn Extension + Send)> {
        Some(&mut self.addons)
    }
}
