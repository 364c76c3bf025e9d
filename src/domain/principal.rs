//! Who is calling the API, whatever they presented: an access token (from OAuth, token exchange
//! or a browser session) or a long-lived credential. Permissions are scopes: `read` to read,
//! `admin` to create and delete credentials. Credentials that act fully as their user carry
//! every scope.

use crate::domain::credentials::{Credential, Environment};
use crate::domain::jwt::AccessClaims;
use crate::domain::scope::ScopeSet;
use crate::domain::user::User;
use crate::error::{AppError, Result};

/// An authenticated API caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user it acts for (`None` for a client acting for itself).
    pub user_id: Option<String>,
    /// The tenant it is bound to, if any (credentials and tokens exchanged from them).
    pub tenant_id: Option<String>,
    /// What it may do.
    pub scopes: ScopeSet,
    /// `test` for sandbox credentials.
    pub env: Option<String>,
    /// The credential presented or exchanged, if any.
    pub credential_id: Option<String>,
    /// The OAuth client, for OAuth tokens.
    pub client_id: Option<String>,
}

impl Principal {
    /// A caller presenting a credential directly.
    pub fn from_credential(c: &Credential) -> Self {
        Self {
            user_id: c.user_id.clone(),
            tenant_id: Some(c.tenant_id.clone()),
            scopes: c.scopes(),
            env: c
                .environment
                .filter(|e| *e == Environment::Test)
                .map(|e| e.as_str().to_owned()),
            credential_id: Some(c.id.clone()),
            client_id: None,
        }
    }

    /// A caller presenting an access token.
    pub fn from_claims(c: &AccessClaims) -> Self {
        Self {
            user_id: User::id_from_public(&c.sub),
            tenant_id: c.tid.clone(),
            scopes: ScopeSet::parse(&c.scope).unwrap_or_default(),
            env: c.env.clone(),
            credential_id: c.cid.clone(),
            client_id: (c.cid.is_none()).then(|| c.client_id.clone()),
        }
    }

    /// Fails with `Forbidden` unless the caller holds `scope`.
    pub fn require(&self, scope: &str) -> Result<()> {
        if self.scopes.has(scope) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "This credential lacks the `{scope}` permission."
            )))
        }
    }

    /// The user the caller acts for, or `Forbidden`.
    pub fn user_id(&self) -> Result<&str> {
        self.user_id
            .as_deref()
            .ok_or_else(|| AppError::Forbidden("This credential does not act for a user.".into()))
    }
}
