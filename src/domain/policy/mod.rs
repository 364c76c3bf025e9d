//! The one authorization policy. Every question of the form "may this caller do this here?" is
//! answered by this module; handlers, pages, OAuth endpoints and the CLI ask it and never
//! compare roles or scopes themselves.
//!
//! A caller's effective permission is what its credential grants intersected with what its
//! owner's *current* membership of the tenant allows: removing a member ends every credential
//! and token they hold there at once, and lowering a role shrinks them at once. Credential
//! management additionally needs a first-party origin (the person's own session, a session
//! token, or a long-lived credential of theirs) — a token an OAuth app obtained never manages
//! credentials — and whatever a caller creates is no stronger than the caller itself
//! (`ceiling`).

mod ceiling;
mod live;
mod role;
mod server;
mod usage;

pub use ceiling::Ceiling;
pub use live::{Access, Policy};
pub use role::Role;
pub use server::ServerAction;

use crate::config::MetricsToken;
use crate::domain::credentials::CredentialKind;
use crate::domain::principal::Principal;
use crate::error::AppError;

/// What a caller wants to do in a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read the tenant's data (scope `read`).
    Read,
    /// Create and change data (scope `write`).
    Write,
    /// Delete data (scope `delete`).
    Delete,
    /// Create, list and revoke one's own credentials (scope `admin`, first-party only).
    ManageOwnCredentials,
    /// List and revoke other members' credentials (tenant administrators).
    ManageMemberCredentials,
    /// Invite, remove and change the role of members (tenant administrators).
    ManageMembers,
    /// Create, change and delete the tenant's system credentials (tenant administrators).
    ManageSystemCredentials,
}

impl Action {
    /// Every action, for tables and tests.
    pub const ALL: [Action; 7] = [
        Action::Read,
        Action::Write,
        Action::Delete,
        Action::ManageOwnCredentials,
        Action::ManageMemberCredentials,
        Action::ManageMembers,
        Action::ManageSystemCredentials,
    ];

    /// The credential scope the action needs.
    pub fn scope(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Write => "write",
            Action::Delete => "delete",
            _ => "admin",
        }
    }

    /// Actions that manage who may do what: they need a first-party caller.
    pub fn manages_access(self) -> bool {
        !matches!(self, Action::Read | Action::Write | Action::Delete)
    }

    /// A short name for messages and the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Write => "write",
            Action::Delete => "delete",
            Action::ManageOwnCredentials => "manage_own_credentials",
            Action::ManageMemberCredentials => "manage_member_credentials",
            Action::ManageMembers => "manage_members",
            Action::ManageSystemCredentials => "manage_system_credentials",
        }
    }
}

/// How a caller came to hold what it presents: decides whether it may manage access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The person's own signed-in browser session.
    Session,
    /// A short-lived token minted from the person's browser session.
    SessionToken,
    /// A long-lived credential of the person's, presented directly or exchanged for a token.
    Credential(CredentialKind),
    /// An access token an OAuth app obtained with the person's consent.
    App {
        /// The app an administrator marked as part of this deployment.
        first_party: bool,
    },
    /// A client acting for itself (client credentials, system credentials).
    Client,
}

impl Origin {
    /// The person, or something only the person holds: not a third party acting for them.
    pub fn is_first_party(&self) -> bool {
        match self {
            Origin::Session | Origin::SessionToken | Origin::Credential(_) => true,
            Origin::App { first_party } => *first_party,
            Origin::Client => false,
        }
    }

    /// A short name for the caller kind.
    pub fn as_str(&self) -> &'static str {
        match self {
            Origin::Session => "session",
            Origin::SessionToken => "session_token",
            Origin::Credential(k) => k.as_str(),
            Origin::App { .. } => "oauth_app",
            Origin::Client => "client",
        }
    }
}

/// Decides one action for a caller holding `role` in the tenant. Pure: the live lookups are
/// done by `Policy`, so this table is what the unit tests pin down.
pub fn decide(caller: &Principal, role: Role, action: Action) -> Result<(), AppError> {
    if !role.allows(action) {
        return Err(AppError::Forbidden(format!(
            "Your role in this tenant ({}) does not allow {}.",
            role.as_str(),
            action.as_str().replace('_', " ")
        )));
    }
    if action.manages_access() && !caller.origin.is_first_party() {
        return Err(AppError::Forbidden(
            "Tokens obtained by third-party apps cannot manage credentials or members: use your own session or one of your credentials.".into(),
        ));
    }
    // Managing access is judged on what the credential itself grants (its `admin` scope); the
    // role was checked above. Data actions use the effective scopes (credential ∩ role).
    let held = if action.manages_access() {
        &caller.granted
    } else {
        &caller.scopes
    };
    if !held.has(action.scope()) {
        return Err(AppError::InsufficientScope(action.scope()));
    }
    Ok(())
}

/// Whether a request may read the server's metrics: only by presenting the configured metrics
/// token (compared in constant time). Without one configured nobody may, and the route does not
/// exist. The metrics name routes and counts, never a person or a secret.
pub fn may_read_metrics(configured: Option<&MetricsToken>, presented: Option<&str>) -> bool {
    match (configured, presented) {
        (Some(token), Some(presented)) => token.matches(presented),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
