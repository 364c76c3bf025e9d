//! State shared by every request handler.

use std::sync::Arc;

use crate::config::Settings;
use oxide_auth::frontends::simple::extensions::AddonList;

use crate::domain::accounts::SignupPolicy;
use crate::domain::browser_sessions::BrowserSessions;
use crate::domain::context::Context;
use crate::domain::credentials::CredentialService;
use crate::domain::session_tokens::SessionTokens;
use crate::domain::tokens::TokenService;
use crate::runtime::audit_writer::Auditor;
use crate::runtime::cache::Caches;
use crate::runtime::limits::RateLimiter;
use crate::runtime::mail_throttle::MailThrottle;
use crate::runtime::throttle::{FailureThrottle, SignInThrottle};
use crate::storage::Db;

/// Everything a handler may need, built once at startup.
pub struct AppState {
    /// What domain operations run with: storage, caches, hasher, audit log, clock and policy.
    /// Handlers pass it to the one operation they call.
    pub ctx: Context,
    /// Database pool (the same as `ctx`'s), for the OAuth endpoints and the client-credentials
    /// login, which are wired on their own.
    pub db: Db,
    /// Parsed configuration.
    pub settings: Arc<Settings>,
    /// Token issuing and checking.
    pub tokens: TokenService,
    /// Long-lived credentials.
    pub credentials: CredentialService,
    /// Session tokens, tied to browser sessions.
    pub session_tokens: SessionTokens,
    /// A person's browser sessions: listing and ending them.
    pub browser_sessions: BrowserSessions,
    /// Hot lookups, shared by the services above and `ctx`; invalidate on change.
    pub caches: Caches,
    /// The audit log's queue (the same as `ctx`'s).
    pub auditor: Auditor,
    /// Sign-in and token-endpoint failure throttle.
    pub throttle: FailureThrottle,
    /// Sign-in's failure budgets: `throttle`'s per address and account, and one per address.
    pub signin_throttle: SignInThrottle,
    /// How often "forgot password" and "resend the confirmation mail" may mail an address.
    pub mail_throttle: MailThrottle,
    /// Per-credential request limits (shared by every server on PostgreSQL).
    pub rate_limits: RateLimiter,
    /// oxide-auth extensions (PKCE), shared by every authorization flow.
    pub oauth_addons: AddonList,
    /// Renders `GET /metrics`; `None` when metrics are off (no `--metrics-token`).
    pub metrics: Option<crate::runtime::metrics::Exporter>,
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

    /// Whether the server mails (`--smtp-url`).
    pub fn mail_on(&self) -> bool {
        self.ctx.outbox().is_some()
    }

    /// Absolute lifetime of a signed-in browser session, in seconds.
    pub fn session_max_secs(&self) -> i64 {
        i64::from(self.settings.session_max_hours) * 3600
    }
}
