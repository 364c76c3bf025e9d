//! Server-level decisions: what concerns the whole server rather than one tenant — reading the
//! whole audit log, creating accounts and tenants, seeing every tenant, managing every
//! registered app and every person's account, rotating signing keys. Only server administrators (and the operator at the
//! command line) may; pages, the API and the CLI all ask here.

use super::Policy;
use crate::domain::accounts;
use crate::domain::context::Actor;
use crate::domain::principal::Principal;
use crate::domain::user::User;
use crate::error::{AppError, Result};

/// Something only server administrators do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerAction {
    /// Read every event of the audit log (a person always reads their own security log).
    ReadAuditLog,
    /// Create an account for someone else (with or without administrator rights).
    CreateAccount,
    /// Create a tenant.
    CreateTenant,
    /// See every tenant, member or not (and administer its members from their own session).
    SeeEveryTenant,
    /// See and change every registered app and the flags only administrators set.
    ManageApps,
    /// Add a token-signing key.
    RotateSigningKeys,
    /// See every account, and mark a person's email address verified or not.
    ManagePeople,
    /// Require a second factor of everyone (or stop requiring it).
    RequireSecondFactor,
    /// Remove a person's second factors, so they sign in with their password alone.
    ResetFactors,
    /// Disable, enable, sign out, promote, demote or delete someone else's account.
    ManageAccounts,
}

impl ServerAction {
    fn refusal(self) -> AppError {
        AppError::Forbidden(
            match self {
                ServerAction::ReadAuditLog => "Only administrators read the audit log.",
                ServerAction::CreateAccount => "Only administrators create accounts.",
                ServerAction::CreateTenant => "Only administrators create tenants.",
                ServerAction::SeeEveryTenant => "Only administrators see every tenant.",
                ServerAction::ManageApps => "Only server administrators manage app flags.",
                ServerAction::RotateSigningKeys => "Only administrators rotate signing keys.",
                ServerAction::ManagePeople => "Only administrators manage people's accounts.",
                ServerAction::RequireSecondFactor => {
                    "Only administrators decide who needs a second factor."
                }
                ServerAction::ResetFactors => "Only administrators reset people's second factors.",
                ServerAction::ManageAccounts => "Only administrators manage people's accounts.",
            }
            .into(),
        )
    }
}

impl Policy {
    /// Whether `actor` may do a server-level `action`. Every one of them is the server
    /// administrators' (no tenant role reaches this far); the operator at the command line holds
    /// the database, and so every power, already.
    pub fn permits(&self, actor: Actor<'_>, action: ServerAction) -> bool {
        match (actor, action) {
            (Actor::CommandLine, _) => true,
            (Actor::User(u), _) => u.is_admin,
        }
    }

    /// `permits`, as an error when refused.
    pub fn authorize_server(&self, actor: Actor<'_>, action: ServerAction) -> Result<()> {
        if self.permits(actor, action) {
            Ok(())
        } else {
            Err(action.refusal())
        }
    }

    /// `authorize_server` for an action on someone's account: an administrator never disables,
    /// demotes or deletes their own account from the administration pages (they delete it from
    /// their own account page), so no one locks themselves out by a slip.
    pub fn authorize_on_account(
        &self,
        actor: Actor<'_>,
        action: ServerAction,
        target: &User,
    ) -> Result<()> {
        self.authorize_server(actor, action)?;
        if let Actor::User(me) = actor
            && me.id == target.id
        {
            return Err(AppError::Forbidden(
                "You cannot do this to your own account here: use your account page.".into(),
            ));
        }
        Ok(())
    }

    /// Decides a server-level `action` for an API caller: it must act for a person and hold the
    /// `admin` scope, and that person must be a server administrator. Returns the person.
    pub async fn authorize_server_caller(
        &self,
        caller: &Principal,
        action: ServerAction,
    ) -> Result<User> {
        caller.require("admin")?;
        let user = accounts::find_in(&self.db, caller.user_id()?)
            .await?
            .ok_or(AppError::NotFound("User"))?;
        self.authorize_server(Actor::User(&user), action)?;
        Ok(user)
    }
}
