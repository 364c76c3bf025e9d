//! Who is calling, whatever they presented: the person's browser session, an access token (from
//! OAuth, token exchange or a session) or a long-lived credential. What a principal may do is
//! decided by `domain::policy`, which also narrows `scopes` to the owner's live role.

use ipnet::IpNet;

use crate::domain::credentials::{Credential, Environment};
use crate::domain::exchange::SESSION_CLIENT;
use crate::domain::jwt::AccessClaims;
use crate::domain::policy::Origin;
use crate::domain::scope::ScopeSet;
use crate::domain::user::User;
use crate::error::{AppError, Result};

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user it acts for (`None` for a client acting for itself).
    pub user_id: Option<String>,
    /// The tenant it is bound to, if any (credentials and tokens exchanged from them).
    pub tenant_id: Option<String>,
    /// What it may do now: its grant narrowed to the owner's live role (see `policy`).
    pub scopes: ScopeSet,
    /// What its credential or token grants, before any narrowing.
    pub granted: ScopeSet,
    /// `test` for sandbox credentials.
    pub env: Option<String>,
    /// The credential presented or exchanged, if any.
    pub credential_id: Option<String>,
    /// The OAuth client, for OAuth tokens.
    pub client_id: Option<String>,
    /// How the caller came by what it presents.
    pub origin: Origin,
    /// A token exchanged from `credential_id`: the policy loads that credential to judge it.
    pub exchanged: bool,
    /// When what it presents stops working (the credential's expiry for exchanged tokens).
    pub expires_at: Option<i64>,
    /// The source networks it is limited to (empty: anywhere).
    pub allowed_ips: Vec<IpNet>,
    /// Its own rate-limit bucket: the credential, the client, the grant family or the token.
    pub rate_key: String,
}

impl Principal {
    /// The person's own signed-in browser session: acts fully as them.
    pub fn session(user: &User) -> Self {
        Self {
            user_id: Some(user.id.clone()),
            tenant_id: None,
            scopes: ScopeSet::all(),
            granted: ScopeSet::all(),
            env: None,
            credential_id: None,
            client_id: None,
            origin: Origin::Session,
            exchanged: false,
            expires_at: None,
            allowed_ips: Vec::new(),
            rate_key: user.id.clone(),
        }
    }

    /// A caller presenting a credential directly.
    pub fn from_credential(c: &Credential) -> Self {
        let granted = c.scopes();
        Self {
            user_id: c.user_id.clone(),
            tenant_id: Some(c.tenant_id.clone()),
            scopes: granted.clone(),
            granted,
            env: c
                .environment
                .filter(|e| *e == Environment::Test)
                .map(|e| e.as_str().to_owned()),
            credential_id: Some(c.id.clone()),
            client_id: None,
            origin: Origin::Credential(c.kind),
            exchanged: false,
            expires_at: c.effective_expiry(None),
            allowed_ips: c.allowed_ips.clone(),
            rate_key: c.id.clone(),
        }
    }

    /// A caller presenting an access token. Tokens exchanged from a credential are completed
    /// by the policy (which loads the credential); OAuth apps' first-party mark likewise.
    pub fn from_claims(c: &AccessClaims) -> Self {
        let user_id = User::id_from_public(&c.sub);
        let origin = if c.cid.is_some() {
            // Refined by the policy once the credential is loaded.
            Origin::Credential(crate::domain::credentials::CredentialKind::ApiKey)
        } else if c.client_id == SESSION_CLIENT {
            Origin::SessionToken
        } else if user_id.is_none() {
            Origin::Client
        } else {
            Origin::App { first_party: false }
        };
        // Exchanged tokens share their credential's bucket; an app's tokens share their grant
        // family's; a client's its own; any other token has one of its own.
        let rate_key = match (&c.cid, &origin, &c.gid) {
            (Some(cid), _, _) => cid.clone(),
            (None, Origin::Client, _) => c.client_id.clone(),
            (None, _, Some(gid)) => gid.clone(),
            (None, _, None) => c.jti.clone(),
        };
        let scopes = ScopeSet::parse(&c.scope).unwrap_or_default();
        Self {
            user_id,
            tenant_id: c.tid.clone(),
            granted: scopes.clone(),
            scopes,
            env: c.env.clone(),
            credential_id: c.cid.clone(),
            client_id: (c.cid.is_none()).then(|| c.client_id.clone()),
            exchanged: c.cid.is_some(),
            origin,
            expires_at: None,
            allowed_ips: Vec::new(),
            rate_key,
        }
    }

    /// Fails with `Forbidden` unless the caller holds `scope` (after narrowing).
    pub fn require(&self, scope: &'static str) -> Result<()> {
        if self.scopes.has(scope) {
            Ok(())
        } else {
            Err(AppError::InsufficientScope(scope))
        }
    }

    /// The user the caller acts for, or `Forbidden`.
    pub fn user_id(&self) -> Result<&str> {
        self.user_id
            .as_deref()
            .ok_or_else(|| AppError::Forbidden("This credential does not act for a user.".into()))
    }

    /// Whether it acts fully as its person (session, session token, `sk-`, personal token,
    /// secret key): only such callers may create credentials that act fully as the person.
    pub fn acts_fully(&self) -> bool {
        let full_origin = match &self.origin {
            Origin::Session | Origin::SessionToken => true,
            Origin::Credential(k) => *k != crate::domain::credentials::CredentialKind::ApiKey,
            Origin::App { .. } | Origin::Client => false,
        };
        full_origin && self.granted.contains_all(&ScopeSet::all())
    }
}
