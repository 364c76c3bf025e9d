//! Attenuation: a caller can only create credentials no stronger than itself — never more
//! permissions, never a later expiry, never a wider or absent IP allowlist, never the live
//! environment from a test one, and nothing that acts fully as the person unless the caller
//! does too.

use ipnet::IpNet;

use crate::domain::credentials::{Credential, CredentialKind, Environment};
use crate::domain::principal::Principal;
use crate::domain::scope::ScopeSet;
use crate::error::{AppError, Result};

/// The most a caller may hand out.
#[derive(Debug, Clone)]
pub struct Ceiling {
    scopes: ScopeSet,
    full: bool,
    expires_at: Option<i64>,
    allowed_ips: Vec<IpNet>,
    test_only: bool,
}

fn refuse(why: impl Into<String>) -> AppError {
    AppError::Forbidden(why.into())
}

impl Ceiling {
    /// The ceiling of an effective principal (scopes already narrowed to the live role).
    pub fn of(p: &Principal) -> Self {
        Self {
            scopes: p.scopes.clone(),
            full: p.acts_fully(),
            expires_at: p.expires_at,
            allowed_ips: p.allowed_ips.clone(),
            test_only: p.env.as_deref() == Some("test"),
        }
    }

    /// Whether the caller is unrestricted (no expiry, allowlist or test mode): only such a
    /// caller may create what carries none of those limits, such as a system credential.
    pub fn admit_unrestricted(&self, what: &str) -> Result<()> {
        if self.test_only || self.expires_at.is_some() || !self.allowed_ips.is_empty() {
            return Err(refuse(format!(
                "A credential limited in time, network or to test mode cannot create {what}."
            )));
        }
        if !self.scopes.contains_all(&ScopeSet::all()) {
            return Err(refuse(format!(
                "Creating {what} needs every permission; this caller has only {}.",
                self.scopes
            )));
        }
        Ok(())
    }

    /// Checks a credential about to be created against the ceiling.
    pub fn admit(&self, c: &Credential) -> Result<()> {
        if c.kind == CredentialKind::ApiKey {
            let extra = c.permissions.minus(&self.scopes);
            if !extra.is_empty() {
                return Err(refuse(format!(
                    "You cannot grant permissions you do not have here: {extra}."
                )));
            }
        } else if !self.full {
            return Err(refuse(format!(
                "A {} acts fully as you: create it from your own session or a credential that also acts fully as you.",
                c.kind.label().to_lowercase()
            )));
        }
        if self.test_only
            && !(c.kind == CredentialKind::ApiKey && c.environment == Some(Environment::Test))
        {
            return Err(refuse(
                "A test-mode credential can only create test-mode API keys.",
            ));
        }
        if let Some(limit) = self.expires_at
            && c.latest_expiry().is_none_or(|e| e > limit)
        {
            return Err(refuse(format!(
                "The new credential must expire no later than this one ({}).",
                crate::domain::credentials::format_time(limit)
            )));
        }
        if !self.allowed_ips.is_empty() {
            let inside = |n: &IpNet| self.allowed_ips.iter().any(|m| m.contains(n));
            if c.allowed_ips.is_empty() || !c.allowed_ips.iter().all(inside) {
                return Err(refuse(
                    "The new credential must be limited to addresses within this one's IP allowlist.",
                ));
            }
        }
        Ok(())
    }
}
