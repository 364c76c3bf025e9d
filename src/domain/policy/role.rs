//! Tenant roles and what each allows. The table:
//!
//! | role     | scopes its members' credentials keep            | actions                                   |
//! |----------|-------------------------------------------------|-------------------------------------------|
//! | `viewer` | read, email:read, users:read                    | read; manage their own credentials        |
//! | `editor` | the viewer's, write, delete, email:send         | the viewer's, write, delete               |
//! | `admin`  | every scope                                     | everything: members, others' credentials, system credentials |

use super::Action;
use crate::domain::scope::ScopeSet;

/// A member's role in a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Reads.
    Viewer,
    /// Reads, writes and deletes.
    Editor,
    /// Everything, including managing members and credentials.
    Admin,
}

impl Role {
    /// Every role, weakest first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Editor, Role::Admin];

    /// Parses a stored or submitted role name.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "viewer" => Some(Self::Viewer),
            "editor" => Some(Self::Editor),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Editor => "editor",
            Self::Admin => "admin",
        }
    }

    /// Whether the role permits the action at all (the credential's scopes are checked too).
    pub fn allows(self, action: Action) -> bool {
        match action {
            Action::Read | Action::ManageOwnCredentials => true,
            Action::Write | Action::Delete => self >= Self::Editor,
            Action::ManageMemberCredentials
            | Action::ManageMembers
            | Action::ManageSystemCredentials => self == Self::Admin,
        }
    }

    /// The most a member's credential may carry in the tenant: credentials are narrowed to this
    /// on every use, and new ones may not ask for more.
    pub fn scopes(self) -> ScopeSet {
        let names = match self {
            Self::Viewer => "read email:read users:read",
            Self::Editor => "read email:read users:read write delete email:send",
            Self::Admin => return ScopeSet::all(),
        };
        ScopeSet::parse(names).unwrap_or_default()
    }
}
