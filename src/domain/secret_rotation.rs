//! Rotating a client's secret, optionally with an overlap: for a while after the rotation the
//! previous secret keeps working too, so every deployment of the app can switch to the new one
//! before the old one stops. Only the keyed hash of the previous secret and the end of its
//! overlap are kept; client authentication (`client::authenticate`) accepts it until then.
//!
//! Registered apps and system credentials are both clients: `rotate` serves either, and the
//! caller records the audit event its own kind of client calls for.

use crate::domain::client::{Client, ClientKind, PreviousSecret};
use crate::domain::context::Context;
use crate::domain::secret_format::{self, Kind};
use crate::error::{AppError, Result};
use crate::runtime::invalidation::Stale;
use crate::secret::ClientSecret;
use crate::storage;

/// How long the previous secret keeps working after a rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overlap {
    /// Not at all: it stops at once.
    #[default]
    None,
    /// One hour.
    Hour,
    /// 24 hours.
    Day,
    /// Seven days.
    Week,
}

impl Overlap {
    /// Every choice, shortest first.
    pub const ALL: [Overlap; 4] = [Self::None, Self::Hour, Self::Day, Self::Week];

    /// Its length in seconds.
    pub fn secs(self) -> i64 {
        match self {
            Self::None => 0,
            Self::Hour => 3600,
            Self::Day => 24 * 3600,
            Self::Week => 7 * 24 * 3600,
        }
    }

    /// The form value (`none`, `1h`, `24h`, `7d`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Hour => "1h",
            Self::Day => "24h",
            Self::Week => "7d",
        }
    }

    /// What a person reads.
    pub fn label(self) -> &'static str {
        match self {
            Self::None => "None: the current secret stops at once",
            Self::Hour => "1 hour",
            Self::Day => "24 hours",
            Self::Week => "7 days",
        }
    }

    /// Parses a form value; blank is `None`, anything else unknown is refused.
    pub fn parse(raw: &str) -> Result<Self> {
        match raw.trim() {
            "" | "none" => Ok(Self::None),
            "1h" => Ok(Self::Hour),
            "24h" => Ok(Self::Day),
            "7d" => Ok(Self::Week),
            _ => Err(AppError::validation(
                "overlap",
                "Choose no overlap, 1 hour, 24 hours or 7 days.",
            )),
        }
    }
}

/// Gives `client` a new secret. With an overlap, its current secret keeps working until the
/// overlap ends (replacing any earlier previous secret); without one, only the new secret works
/// from now on. Public clients have no secret to rotate.
pub async fn rotate(
    ctx: &Context,
    mut client: Client,
    overlap: Overlap,
) -> Result<(Client, ClientSecret)> {
    let Some(current) = client.secret_hash.clone().filter(|_| !client.is_public) else {
        return Err(AppError::validation(
            "client_id",
            "Public clients have no secret.",
        ));
    };
    let kind = match client.kind {
        ClientKind::App => Kind::ClientSecret,
        ClientKind::System => Kind::SystemSecret,
    };
    let secret = ClientSecret::new(secret_format::generate(kind));
    let hash = ctx.hasher().hash(secret.expose());
    let now = ctx.now();
    let previous = (overlap.secs() > 0).then(|| PreviousSecret {
        hash: current,
        until: now + overlap.secs(),
    });
    storage::clients::update_secret(ctx.db(), &client.id, &hash, previous.as_ref(), now).await?;
    // Client authentication reads through this cache, on every node.
    ctx.caches().invalidate(Stale::CLIENTS);
    client.secret_hash = Some(hash);
    client.previous_secret = previous;
    Ok((client, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlaps_parse_from_their_form_values() {
        for o in Overlap::ALL {
            assert_eq!(Overlap::parse(o.as_str()).unwrap(), o);
        }
        assert_eq!(Overlap::parse("").unwrap(), Overlap::None);
        assert_eq!(Overlap::Week.secs(), 604_800);
        assert!(Overlap::parse("30d").is_err());
    }
}
