//! State shared by every request handler.

use std::sync::Arc;

use crate::config::Settings;
use oxide_auth::frontends::simple::extensions::AddonList;

use crate::domain::accounts::SignupPolicy;
use crate::domain::credentials::CredentialService;
use crate::domain::session_tokens::SessionTokens;
use crate::domain::tokens::TokenService;
use crate::runtime::audit_writer::Auditor;
use crate::runtime::cache::Caches;
use crate::runtime::throttle::{FailureThrottle, RateLimits};
use crate::storage::Db;

/// Everything a handler may need, built once at startup.
pub struct AppState {
    /// Database pool.
    pub db: Db,
    /// Parsed configuration.
    pub settings: Arc<Settings>,
    /// Token issuing and checking.
    pub tokens: TokenService,
    /// Long-lived credentials.
    pub credentials: CredentialService,
    /// The authorization policy (the same one the services ask).
    pub policy: crate::domain::policy::Policy,
    /// Session tokens, tied to browser sessions.
    pub session_tokens: SessionTokens,
    /// Hot lookups, shared by the services above; invalidate on change.
    pub caches: Caches,
    /// The audit log's queue.
    pub auditor: Auditor,
    /// Sign-in and token-endpoint failure throttle.
    pub throttle: FailureThrottle,
    /// Per-credential request limits.
    pub rate_limits: RateLimits,
    /// oxide-auth extensions (PKCE), shared by every authorization flow.
    pub oauth_addons: AddonList,
}

impl AppState {
    /// Who may use the public sign-up page.
    pub fn signup_policy(&self) -> SignupPolicy {
        if self.settings.signup {
            SignupPolicy::Open
        } else {
            SignupPolicy::FirstAccountOnly
        }
    }

    /// What membership operations (`domain::membership`) need.
    pub fn membership(&self) -> crate::domain::membership::Ctx<'_> {
        crate::domain::membership::Ctx {
            db: &self.db,
            policy: &self.policy,
            caches: &self.caches,
            auditor: &self.auditor,
            clock: self.credentials.clock(),
        }
    }

    /// What the token endpoint's grants (`domain::grants`) need.
    pub fn grants(&self) -> crate::domain::grants::Grants<'_> {
        crate::domain::grants::Grants {
            db: &self.db,
            caches: &self.caches,
            tokens: &self.tokens,
            credentials: &self.credentials,
            throttle: &self.throttle,
            auditor: &self.auditor,
            clock: self.tokens.clock(),
        }
    }

    /// Absolute lifetime of a signed-in browser session, in seconds.
    pub fn session_max_secs(&self) -> i64 {
        i64::from(self.settings.session_max_hours) * 3600
    }
}
