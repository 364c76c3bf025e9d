//! What a credential is: its kind, its environment, the stored record and the rules read off it
//! (what it may do, when it stops working), plus the values an issue or a check hands back.
//! Nothing here touches storage, caches or the clock: callers pass the time in.

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::domain::scope::ScopeSet;
use crate::domain::secret_format::Kind;
use crate::error::AppError;

const DAY: i64 = 86_400;
/// The personal token dies after this long without use...
pub const PERSONAL_TOKEN_IDLE: i64 = 30 * DAY;
/// ...and at the latest this long after creation.
pub const PERSONAL_TOKEN_MAX: i64 = 90 * DAY;

/// What sort of credential a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// `ck_live_` / `ck_test_`.
    ApiKey,
    /// `sk-`.
    PersonalAccessToken,
    /// `pt_`, one per person.
    PersonalToken,
    /// `usk_`, one per person.
    SecretKey,
}

impl CredentialKind {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApiKey => "api_key",
            Self::PersonalAccessToken => "personal_access_token",
            Self::PersonalToken => "personal_token",
            Self::SecretKey => "secret_key",
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::ApiKey,
            Self::PersonalAccessToken,
            Self::PersonalToken,
            Self::SecretKey,
        ]
        .into_iter()
        .find(|k| k.as_str() == raw)
    }

    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            Self::ApiKey => "API key",
            Self::PersonalAccessToken => "Personal access token",
            Self::PersonalToken => "Personal token",
            Self::SecretKey => "Account secret key",
        }
    }

    /// The credential kind a secret's format names; `None` for secrets that are not people's
    /// credentials (client and system secrets, opaque access tokens).
    pub(super) fn of_secret(kind: Kind) -> Option<Self> {
        match kind {
            Kind::ApiKeyLive | Kind::ApiKeyTest => Some(Self::ApiKey),
            Kind::PersonalAccessToken => Some(Self::PersonalAccessToken),
            Kind::PersonalToken => Some(Self::PersonalToken),
            Kind::AccountSecretKey => Some(Self::SecretKey),
            Kind::ClientSecret | Kind::SystemSecret | Kind::AccessToken => None,
        }
    }
}

/// API-key environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// Production.
    Live,
    /// Sandbox: tokens carry `env: "test"` so services keep its data apart.
    Test,
}

impl Environment {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Test => "test",
        }
    }

    /// Parses a wire name.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "live" => Some(Self::Live),
            "test" => Some(Self::Test),
            _ => None,
        }
    }
}

/// A stored credential (never its secret).
#[derive(Debug, Clone)]
pub struct Credential {
    /// UUID.
    pub id: String,
    /// Owner.
    pub user_id: Option<String>,
    /// The one tenant it acts in.
    pub tenant_id: String,
    /// Kind.
    pub kind: CredentialKind,
    /// Name chosen by the owner.
    pub name: String,
    /// Public prefix for display (`ck_live_AbCd`).
    pub prefix: String,
    /// For API keys: among read, write, delete, admin.
    pub permissions: ScopeSet,
    /// For API keys.
    pub environment: Option<Environment>,
    /// Fixed expiry, Unix seconds.
    pub expires_at: Option<i64>,
    /// Allowed source networks; empty means anywhere.
    pub allowed_ips: Vec<IpNet>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub last_used_at: Option<i64>,
    /// Source address of the last use.
    pub last_used_ip: Option<String>,
    /// Unix seconds.
    pub revoked_at: Option<i64>,
}

impl Credential {
    /// Personal tokens, `sk-` tokens and secret keys act fully as their owner; API keys only
    /// with their permissions.
    pub fn acts_as_user(&self) -> bool {
        self.kind != CredentialKind::ApiKey
    }

    /// What the credential may do, as scopes.
    pub fn scopes(&self) -> ScopeSet {
        if self.acts_as_user() {
            ScopeSet::all()
        } else {
            self.permissions.clone()
        }
    }

    /// The latest it can ever stop working: the personal token's expiry slides with use, but
    /// never past its maximum lifetime.
    pub fn latest_expiry(&self) -> Option<i64> {
        match self.kind {
            CredentialKind::PersonalToken => Some(self.created_at + PERSONAL_TOKEN_MAX),
            _ => self.expires_at,
        }
    }

    /// When it stops working, as of now: the personal token's moves with use (30 days after the
    /// last use, never past 90 days after creation).
    pub fn effective_expiry(&self, last_used: Option<i64>) -> Option<i64> {
        match self.kind {
            CredentialKind::PersonalToken => {
                let since = last_used
                    .or(self.last_used_at)
                    .unwrap_or(self.created_at)
                    .max(self.created_at);
                Some((since + PERSONAL_TOKEN_IDLE).min(self.created_at + PERSONAL_TOKEN_MAX))
            }
            _ => self.expires_at,
        }
    }
}

/// A credential with its secret, which exists only in this value (shown once).
#[derive(Debug)]
pub struct Issued {
    /// The stored record.
    pub credential: Credential,
    /// The secret.
    pub secret: crate::secret::CredentialSecret,
}

/// Why a presented credential was refused.
#[derive(Debug)]
pub enum Refusal {
    /// Malformed, bad checksum, unknown.
    Invalid,
    /// Past its expiry.
    Expired,
    /// Revoked.
    Revoked,
    /// From an address outside its allowlist.
    IpNotAllowed,
    /// Its owner is no longer a member of its tenant.
    NotMember,
    /// Its owner's account is disabled (or no longer exists).
    AccountDisabled,
    /// Storage failed.
    Failed(AppError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of_kind(kind: CredentialKind, created: i64, last: Option<i64>) -> Credential {
        Credential {
            id: "c".into(),
            user_id: None,
            tenant_id: "t".into(),
            kind,
            name: "p".into(),
            prefix: "pt_".into(),
            permissions: ScopeSet::default(),
            environment: None,
            expires_at: None,
            allowed_ips: vec![],
            created_at: created,
            last_used_at: last,
            last_used_ip: None,
            revoked_at: None,
        }
    }

    fn personal(created: i64, last: Option<i64>) -> Credential {
        of_kind(CredentialKind::PersonalToken, created, last)
    }

    const ALL_KINDS: [CredentialKind; 4] = [
        CredentialKind::ApiKey,
        CredentialKind::PersonalAccessToken,
        CredentialKind::PersonalToken,
        CredentialKind::SecretKey,
    ];

    #[test]
    fn personal_token_expiry_moves_with_use_but_never_past_ninety_days() {
        let c = personal(0, None);
        assert_eq!(c.effective_expiry(None), Some(30 * DAY));
        assert_eq!(c.effective_expiry(Some(10 * DAY)), Some(40 * DAY));
        assert_eq!(c.effective_expiry(Some(80 * DAY)), Some(90 * DAY));
    }

    #[test]
    fn personal_token_expiry_counts_from_the_stored_last_use_when_none_is_pending() {
        let c = personal(0, Some(20 * DAY));
        assert_eq!(c.effective_expiry(None), Some(50 * DAY));
        // A pending use wins over the stored one.
        assert_eq!(c.effective_expiry(Some(25 * DAY)), Some(55 * DAY));
    }

    #[test]
    fn personal_token_expiry_never_counts_from_before_its_creation() {
        let c = personal(100 * DAY, None);
        assert_eq!(c.effective_expiry(Some(DAY)), Some(130 * DAY));
    }

    #[test]
    fn other_kinds_expire_at_their_fixed_time_whatever_their_use() {
        for kind in [
            CredentialKind::ApiKey,
            CredentialKind::PersonalAccessToken,
            CredentialKind::SecretKey,
        ] {
            let mut c = of_kind(kind, 0, Some(5 * DAY));
            assert_eq!(c.effective_expiry(Some(6 * DAY)), None);
            assert_eq!(c.latest_expiry(), None);
            c.expires_at = Some(7 * DAY);
            assert_eq!(c.effective_expiry(Some(6 * DAY)), Some(7 * DAY));
            assert_eq!(c.latest_expiry(), Some(7 * DAY));
        }
    }

    #[test]
    fn personal_token_latest_expiry_is_ninety_days_after_creation_whatever_its_use() {
        let mut c = personal(DAY, Some(80 * DAY));
        c.expires_at = Some(2 * DAY);
        assert_eq!(c.latest_expiry(), Some(91 * DAY));
    }

    #[test]
    fn only_api_keys_act_with_their_own_permissions() {
        for kind in ALL_KINDS {
            assert_eq!(
                of_kind(kind, 0, None).acts_as_user(),
                kind != CredentialKind::ApiKey
            );
        }
    }

    #[test]
    fn an_api_key_has_its_permissions_and_everything_else_has_every_scope() {
        let mut key = of_kind(CredentialKind::ApiKey, 0, None);
        key.permissions = ScopeSet::parse("read write").unwrap();
        assert_eq!(key.scopes(), ScopeSet::parse("read write").unwrap());

        for kind in ALL_KINDS
            .into_iter()
            .filter(|k| *k != CredentialKind::ApiKey)
        {
            let mut c = of_kind(kind, 0, None);
            c.permissions = ScopeSet::parse("read").unwrap();
            assert_eq!(c.scopes(), ScopeSet::all());
        }
    }

    #[test]
    fn kinds_read_back_their_stored_names() {
        for kind in ALL_KINDS {
            assert_eq!(CredentialKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(CredentialKind::parse("client_secret"), None);
    }

    #[test]
    fn client_and_system_secrets_are_no_ones_credential() {
        assert_eq!(CredentialKind::of_secret(Kind::ClientSecret), None);
        assert_eq!(CredentialKind::of_secret(Kind::SystemSecret), None);
        assert_eq!(
            CredentialKind::of_secret(Kind::ApiKeyTest),
            Some(CredentialKind::ApiKey)
        );
        assert_eq!(
            CredentialKind::of_secret(Kind::AccountSecretKey),
            Some(CredentialKind::SecretKey)
        );
    }

    #[test]
    fn environments_read_back_their_wire_names() {
        for env in [Environment::Live, Environment::Test] {
            assert_eq!(Environment::parse(env.as_str()), Some(env));
        }
        assert_eq!(Environment::parse("prod"), None);
    }
}
