//! Who may see how a credential is used: its holder (reading in the credential's tenant), and
//! the tenant's administrators, who already see and revoke every member's credentials there.
//! Anyone else is told the credential does not exist, so ids reveal nothing.

use super::{Action, Policy};
use crate::domain::credentials::Credential;
use crate::domain::principal::Principal;
use crate::error::{AppError, Result};

impl Policy {
    /// Allows `p` to see the usage of `c`, or `NotFound`.
    pub async fn authorize_credential_usage(&self, p: &Principal, c: &Credential) -> Result<()> {
        let holder = c.user_id.is_some() && p.user_id.as_deref() == c.user_id.as_deref();
        let action = if holder {
            Action::Read
        } else {
            Action::ManageMemberCredentials
        };
        match self.authorize(p, &c.tenant_id, action).await {
            Ok(_) => Ok(()),
            Err(
                AppError::NotFound(_) | AppError::Forbidden(_) | AppError::InsufficientScope(_),
            ) => Err(AppError::NotFound("Credential")),
            Err(e) => Err(e),
        }
    }
}
