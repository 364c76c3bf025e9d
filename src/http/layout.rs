//! What every page's layout needs: the signed-in account, the form token, the tenant switcher
//! and the message left by the last action (a "flash": set by a form handler before its 303,
//! shown once by the page it leads to). Built by the `CurrentUser`/`MaybeUser` extractors.

use actix_session::Session;

use super::csrf;
use super::error::PageError;
use crate::domain::tenant;
use crate::domain::user::User;
use crate::error::AppError;
use crate::state::AppState;

/// Session key of the message waiting for the next page.
const FLASH: &str = "flash";

/// Leaves `message` for the next page this session shows.
pub fn flash(session: &Session, message: impl Into<String>) -> Result<(), PageError> {
    session
        .insert(FLASH, message.into())
        .map_err(|e| AppError::internal(anyhow::anyhow!("{e}")).into())
}

/// The waiting message, if any; it is gone afterwards. (Removing an absent key leaves the
/// session unchanged, so pages without a message cost no session write.)
fn take_flash(session: &Session) -> Option<String> {
    session.remove_as::<String>(FLASH).and_then(Result::ok)
}

/// What every page's layout needs: the account (if any), the form token, and the tenants for
/// the header's switcher.
pub struct Layout {
    /// Signed-in account.
    pub user: Option<User>,
    /// Anti-CSRF token for the page's forms.
    pub csrf: String,
    /// The person's tenants.
    pub tenants: Vec<TenantChoice>,
    /// Whether they administer the active tenant (shows the Admin links).
    pub tenant_admin: bool,
    /// What the last action did ("API key “ci” revoked."), shown once.
    pub flash: Option<String>,
    /// A page that stands alone (the consent page an app sent someone to): no account
    /// navigation, so nothing draws the person away from the decision asked of them.
    pub bare: bool,
}

/// One entry of the tenant switcher.
pub struct TenantChoice {
    /// Tenant id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The active one.
    pub active: bool,
}

impl Layout {
    /// The layout for this session as it is now (after a sign-in changed it mid-request).
    pub async fn for_session(
        session: &Session,
        state: &AppState,
        user: Option<User>,
    ) -> Result<Self, PageError> {
        Self::build(session, state, user).await
    }

    pub(super) async fn build(
        session: &Session,
        state: &AppState,
        user: Option<User>,
    ) -> Result<Self, PageError> {
        let csrf = csrf::token(session)?.expose().to_owned();
        let (mut tenants, mut tenant_admin) = (Vec::new(), false);
        if let Some(u) = &user {
            let switcher = tenant::switcher(&state.ctx, u).await?;
            tenant_admin = switcher.administers_active;
            tenants = switcher
                .tenants
                .into_iter()
                .map(|(t, active)| TenantChoice {
                    id: t.id,
                    name: t.name,
                    active,
                })
                .collect();
        }
        Ok(Self {
            user,
            csrf,
            tenants,
            tenant_admin,
            flash: take_flash(session),
            bare: false,
        })
    }
}
