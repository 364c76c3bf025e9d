//! The per-request oxide-auth endpoint: the primitives of `storage::oauth`, a fixed consent
//! decision, and PKCE. Built fresh for each request (it is a handful of `Arc` clones).

use std::sync::{Arc, Mutex};

use oxide_auth::endpoint::{
    OAuthError as OxideError, OwnerConsent, OwnerSolicitor, Scopes, Solicitation, Template,
};
use oxide_auth::frontends::simple::extensions::{
    AccessTokenAddon, AccessTokenRequest, AddonList, AddonResult, AuthorizationAddon,
    AuthorizationRequest, Pkce,
};
use oxide_auth::primitives::grant::{GrantExtension, Value};
use oxide_auth::primitives::scope::Scope;
use oxide_auth_actix::{OAuthRequest, OAuthResponse, WebError};
use oxide_auth_async::endpoint::{Endpoint, Extension, OwnerSolicitor as AsyncSolicitor};
use oxide_auth_async::primitives::{Authorizer, Issuer, Registrar};

use crate::domain::client::Client;
use crate::domain::oauth::is_pkce_string;
use crate::state::AppState;
use crate::storage::oauth::{ClientRegistrar, CodeAuthorizer, RefusedFlag, TokenIssuer};

/// The resource owner's decision, made before the flow runs.
pub enum Decision {
    /// Approved for this user id.
    Allow(String),
    /// Refused.
    Deny,
    /// Client credentials: the client acts for itself.
    ClientItself,
}

impl OwnerSolicitor<OAuthRequest> for Decision {
    fn check_consent(
        &mut self,
        _: &mut OAuthRequest,
        s: Solicitation,
    ) -> OwnerConsent<OAuthResponse> {
        match self {
            Decision::Allow(user) => OwnerConsent::Authorized(user.clone()),
            Decision::Deny => OwnerConsent::Denied,
            Decision::ClientItself => OwnerConsent::Authorized(s.pre_grant().client_id.clone()),
        }
    }
}

/// oxide-auth's PKCE (S256 only) plus what it leaves out: a `code_verifier` for a code issued
/// without a challenge is refused (a downgrade), and verifiers must be 43–128 unreserved
/// characters (RFC 7636 §4.1).
struct StrictPkce(Pkce);

impl GrantExtension for StrictPkce {
    fn identifier(&self) -> &'static str {
        self.0.identifier()
    }
}

impl AuthorizationAddon for StrictPkce {
    fn execute(&self, request: &dyn AuthorizationRequest) -> AddonResult {
        AuthorizationAddon::execute(&self.0, request)
    }
}

impl AccessTokenAddon for StrictPkce {
    fn execute(&self, request: &dyn AccessTokenRequest, data: Option<Value>) -> AddonResult {
        match request.extension("code_verifier") {
            Some(_) if data.is_none() => return AddonResult::Err,
            Some(v) if !is_pkce_string(&v) => return AddonResult::Err,
            _ => {}
        }
        AccessTokenAddon::execute(&self.0, request, data)
    }
}

/// The addons every endpoint uses.
pub fn addons() -> AddonList {
    let mut list = AddonList::new();
    list.push_code(StrictPkce(Pkce::optional()));
    list
}

/// One request's endpoint.
pub struct FlowEndpoint {
    registrar: ClientRegistrar,
    authorizer: CodeAuthorizer,
    issuer: TokenIssuer,
    decision: Decision,
    addons: AddonList,
    scopes: Vec<Scope>,
    refused: RefusedFlag,
}

impl FlowEndpoint {
    /// An endpoint for `client` with a decided consent.
    pub fn new(state: &AppState, client: Client, decision: Decision) -> Self {
        let family = Arc::new(Mutex::new(None));
        let refused = RefusedFlag::default();
        Self {
            registrar: ClientRegistrar::new(client.clone()),
            authorizer: CodeAuthorizer::new(state.tokens.clone(), family.clone()),
            issuer: TokenIssuer::new(state.tokens.clone(), family, client, refused.clone()),
            decision,
            addons: state.oauth_addons.clone(),
            scopes: Vec::new(),
            refused,
        }
    }

    /// Raised when the issuer refused a grant it could not report as such (see `RefusedFlag`).
    pub fn refused_flag(&self) -> RefusedFlag {
        self.refused.clone()
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
        Some(&mut self.issuer)
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
