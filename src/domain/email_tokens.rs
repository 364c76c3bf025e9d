//! Single-use links mailed to a person: one to confirm an email address (valid 24 hours), one to
//! reset a password (valid 30 minutes). A link carries 256 random bits; only their keyed hash is
//! stored (as machine secrets are, `SecretHasher`), so a copy of the database opens nothing.
//! Issuing a link replaces the person's older one of the same purpose; taking one deletes it.

use crate::domain::context::Context;
use crate::error::Result;
use crate::secret::{MailToken, random_token};
use crate::storage;

/// What a link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Confirms the address it was mailed to.
    VerifyEmail,
    /// Lets the person choose a new password.
    PasswordReset,
}

impl Purpose {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::PasswordReset => "password_reset",
        }
    }

    /// The purpose with this stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "verify_email" => Some(Self::VerifyEmail),
            "password_reset" => Some(Self::PasswordReset),
            _ => None,
        }
    }

    /// How long a link stays valid, in seconds.
    pub fn lifetime_secs(self) -> i64 {
        match self {
            Self::VerifyEmail => 24 * 3600,
            Self::PasswordReset => 30 * 60,
        }
    }

    /// The page a link opens.
    pub fn path(self) -> &'static str {
        match self {
            Self::VerifyEmail => "/verify-email",
            Self::PasswordReset => "/reset-password",
        }
    }
}

/// A stored link, as the domain sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailToken {
    /// The account it was mailed for.
    pub user_id: String,
    /// What it is for.
    pub purpose: Purpose,
    /// The address it was mailed to.
    pub email: String,
    /// Unix seconds after which it opens nothing.
    pub expires_at: i64,
}

/// Longest token looked up: a real one is 43 characters; anything longer is refused unread.
const MAX_PRESENTED: usize = 64;

/// Issues a link of `purpose` for the account to `email`, replacing any older one; the token
/// to put in the link.
pub async fn issue(
    ctx: &Context,
    user_id: &str,
    email: &str,
    purpose: Purpose,
) -> Result<MailToken> {
    let token = MailToken::new(random_token::<32>());
    let now = ctx.now();
    let stored = EmailToken {
        user_id: user_id.to_owned(),
        purpose,
        email: email.to_owned(),
        expires_at: now + purpose.lifetime_secs(),
    };
    storage::email_tokens::replace(ctx.db(), &ctx.hasher().hash(token.expose()), &stored, now)
        .await?;
    Ok(token)
}

/// The unexpired, unused link of `purpose` this token opens, if any; it stays usable.
pub async fn find(ctx: &Context, purpose: Purpose, presented: &str) -> Result<Option<EmailToken>> {
    if presented.is_empty() || presented.len() > MAX_PRESENTED {
        return Ok(None);
    }
    let hash = ctx.hasher().hash(presented);
    storage::email_tokens::find(ctx.db(), purpose, &hash, ctx.now()).await
}

/// Uses up the link of `purpose` this token opens: what it was, once; `None` for an unknown,
/// expired or already used one.
pub async fn take(ctx: &Context, purpose: Purpose, presented: &str) -> Result<Option<EmailToken>> {
    if presented.is_empty() || presented.len() > MAX_PRESENTED {
        return Ok(None);
    }
    let hash = ctx.hasher().hash(presented);
    storage::email_tokens::take(ctx.db(), purpose, &hash, ctx.now()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_round_trip_and_reset_links_live_shorter() {
        for p in [Purpose::VerifyEmail, Purpose::PasswordReset] {
            assert_eq!(Purpose::parse(p.as_str()), Some(p));
        }
        assert_eq!(Purpose::parse("other"), None);
        assert_eq!(Purpose::PasswordReset.lifetime_secs(), 1800);
        assert_eq!(Purpose::VerifyEmail.lifetime_secs(), 86_400);
    }
}
