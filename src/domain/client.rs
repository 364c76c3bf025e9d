//! OAuth clients ("developer apps"): registration rules and secrets. Registering an app and
//! rotating its secret record their own audit events. Checking a client's credentials lives in
//! `client_auth` (re-exported here).

use crate::domain::app_profile::AppProfile;
use crate::domain::audit::AuditEvent;
use crate::domain::client_settings::{self, AccessTokenFormat, OidcSettings};
use crate::domain::context::{Actor, Context};
use crate::domain::policy::ServerAction;
use crate::domain::redirect_uri;
use crate::domain::roles::RoleAssignment;
use crate::domain::scope::ScopeSet;
use crate::domain::secret_format::{self, Kind};
use crate::domain::secret_rotation::{self, Overlap};
use crate::domain::user::{DisplayName, User};
use crate::error::{AppError, Result};
use crate::secret::ClientSecret;
use crate::storage;
use serde_json::json;

pub use crate::domain::client_auth::{AuthMethod, authenticate, find_cached};

/// Grants a client may use at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    /// `authorization_code` (with PKCE).
    AuthorizationCode,
    /// `refresh_token`.
    RefreshToken,
    /// `client_credentials`.
    ClientCredentials,
}

impl GrantType {
    /// The RFC 6749 name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
        }
    }

    /// Parses an RFC 6749 name.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "authorization_code" => Some(Self::AuthorizationCode),
            "refresh_token" => Some(Self::RefreshToken),
            "client_credentials" => Some(Self::ClientCredentials),
            _ => None,
        }
    }

    /// What a client gets when it names no grant.
    pub const DEFAULT: [GrantType; 2] = [Self::AuthorizationCode, Self::RefreshToken];
}

/// A registered client. Its `Debug` leaves the secret's hash out.
#[derive(Clone)]
pub struct Client {
    /// Public identifier.
    pub id: String,
    /// The account that registered it (`None` when created from the CLI).
    pub owner_id: Option<String>,
    /// Display name shown on the consent page.
    pub name: String,
    /// Registered redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Scopes the client may ask for.
    pub scopes: ScopeSet,
    /// Grants the client may use.
    pub grant_types: Vec<GrantType>,
    /// Public clients have no secret and must use PKCE.
    pub is_public: bool,
    /// Keyed hash of the secret (confidential clients).
    pub secret_hash: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// A registered app, or a tenant's system credential.
    pub kind: ClientKind,
    /// The tenant a system credential belongs to.
    pub tenant_id: Option<String>,
    /// A system credential's roles; empty means full access.
    pub roles: Vec<RoleAssignment>,
    /// What a server administrator has marked the client as (see `domain::client_flags`).
    pub flags: ClientFlags,
    /// Its OpenID Connect settings (see `domain::client_settings`).
    pub oidc: OidcSettings,
    /// What it says about itself on the consent page (see `domain::app_profile`).
    pub profile: AppProfile,
    /// The secret replaced by the last rotation, while it is still accepted (see
    /// `domain::secret_rotation`).
    pub previous_secret: Option<PreviousSecret>,
    /// What the access tokens it gets look like (see `domain::client_settings`).
    pub access_token_format: AccessTokenFormat,
}

/// A replaced secret that keeps working until `until`, so the app's deployments can switch to
/// the new one without an outage. `Debug` leaves the hash out.
#[derive(Clone)]
pub struct PreviousSecret {
    /// Keyed hash of the replaced secret.
    pub hash: String,
    /// Unix seconds; from then on only the current secret is accepted.
    pub until: i64,
}

impl std::fmt::Debug for PreviousSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreviousSecret")
            .field("hash", &"REDACTED")
            .field("until", &self.until)
            .finish()
    }
}

/// Flags only a server administrator sets on a registered app; all off for every new client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ClientFlags {
    /// May introspect tokens issued to other clients and long-lived credentials (see
    /// `domain::introspection`).
    pub resource_server: bool,
    /// An app of the deployment itself: people are never asked to consent to it.
    pub first_party: bool,
    /// Only a multi-factor sign-in may authorize it: a session signed in with a password alone
    /// is asked for a second factor first (step-up, see `domain::oidc_request`).
    #[serde(default)]
    pub require_second_factor: bool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("is_public", &self.is_public)
            .field(
                "secret_hash",
                &self.secret_hash.as_ref().map(|_| "REDACTED"),
            )
            .field("tenant_id", &self.tenant_id)
            .field("flags", &self.flags)
            .field("oidc", &self.oidc)
            .field("previous_secret", &self.previous_secret)
            .field("access_token_format", &self.access_token_format)
            .finish_non_exhaustive()
    }
}

/// What a client is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// A third-party app registered under Developer apps.
    App,
    /// A tenant's machine credential, limited by roles.
    System,
}

impl ClientKind {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::App => "app",
            Self::System => "system",
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Self {
        if raw == "system" {
            Self::System
        } else {
            Self::App
        }
    }
}

impl Client {
    /// Whether the client may use this grant.
    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// The registered redirect URI a request resolves to: the requested one when it matches a
    /// registration, or the only registered one when none was requested.
    pub fn resolve_redirect(&self, requested: Option<&str>) -> Option<String> {
        match requested {
            Some(uri) => self
                .redirect_uris
                .iter()
                .any(|reg| redirect_uri::matches(reg, uri))
                .then(|| uri.to_owned()),
            None if self.redirect_uris.len() == 1 => self.redirect_uris.first().cloned(),
            None => None,
        }
    }

    /// Whether the client registered exactly `uri` as a post-logout redirect URI (RP-Initiated
    /// Logout 1.0 §3: simple string comparison, with no loopback port leeway).
    pub fn allows_post_logout_redirect(&self, uri: &str) -> bool {
        self.oidc.post_logout_redirect_uris.iter().any(|r| r == uri)
    }

    /// The grants as a space-separated string.
    pub fn grant_list(&self) -> String {
        self.grant_types
            .iter()
            .map(|g| g.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// What registering a client takes.
#[derive(Debug, Clone, Default)]
pub struct NewClient {
    /// Display name.
    pub name: String,
    /// Redirect URIs (required for the authorization-code grant).
    pub redirect_uris: Vec<String>,
    /// Space-separated allowed scopes; empty means `read`.
    pub scope: String,
    /// Public (no secret, PKCE required) rather than confidential.
    pub public: bool,
    /// Grants; empty means authorization_code and refresh_token.
    pub grants: Vec<GrantType>,
    /// OpenID Connect settings (post-logout redirect URIs are validated here).
    pub oidc: OidcSettings,
    /// What its access tokens look like.
    pub access_token_format: AccessTokenFormat,
}

/// A newly registered client and its secret, shown once.
#[derive(Debug)]
pub struct Registered {
    /// The client.
    pub client: Client,
    /// The secret for confidential clients.
    pub secret: Option<ClientSecret>,
}

/// Validates and stores a new client. An app registered by a person is theirs; one registered at
/// the command line belongs to nobody.
pub async fn register(ctx: &Context, by: Actor<'_>, new: NewClient) -> Result<Registered> {
    let owner = match by {
        Actor::User(u) => Some(u),
        Actor::CommandLine => None,
    };
    let name = DisplayName::parse(&new.name)?;
    let uris = validate_redirect_uris(&new.redirect_uris)?;
    let grants = if new.grants.is_empty() {
        GrantType::DEFAULT.to_vec()
    } else {
        new.grants.clone()
    };
    check_grants(new.public, &grants, &uris)?;
    let scopes = parse_scopes(&new.scope)?;
    let oidc = OidcSettings {
        id_token_alg: new.oidc.id_token_alg,
        post_logout_redirect_uris: client_settings::validate_post_logout_uris(
            &new.oidc.post_logout_redirect_uris,
        )?,
    };
    let secret =
        (!new.public).then(|| ClientSecret::new(secret_format::generate(Kind::ClientSecret)));
    let client = Client {
        id: new_client_id(),
        owner_id: owner.map(|u| u.id.clone()),
        name: name.as_str().to_owned(),
        redirect_uris: uris,
        scopes,
        grant_types: grants,
        is_public: new.public,
        secret_hash: secret.as_ref().map(|s| ctx.hasher().hash(s.expose())),
        created_at: 0,
        kind: ClientKind::App,
        tenant_id: None,
        roles: Vec::new(),
        flags: ClientFlags::default(),
        oidc,
        profile: AppProfile::default(),
        previous_secret: None,
        access_token_format: new.access_token_format,
    };
    let client = storage::clients::insert_client(ctx.db(), &client, ctx.now()).await?;
    let event = AuditEvent::here("app.registered").target(format!("client:{}", client.id));
    ctx.record(match by {
        Actor::User(u) => event.by_user(&u.id),
        Actor::CommandLine => event.by_cli(),
    });
    Ok(Registered { client, secret })
}

/// Validates redirect URIs for registration (`domain::redirect_uri`): blank lines dropped,
/// duplicates kept once.
pub fn validate_redirect_uris(raw: &[String]) -> Result<Vec<String>> {
    let mut uris = Vec::with_capacity(raw.len());
    for uri in raw.iter().map(|u| u.trim()).filter(|u| !u.is_empty()) {
        let uri = redirect_uri::validate(uri)?;
        if !uris.contains(&uri) {
            uris.push(uri);
        }
    }
    Ok(uris)
}

/// The grant rules: a public client has no secret for `client_credentials`, and the
/// authorization-code grant needs somewhere to send the code.
pub fn check_grants(public: bool, grants: &[GrantType], uris: &[String]) -> Result<()> {
    if public && grants.contains(&GrantType::ClientCredentials) {
        return Err(AppError::validation(
            "grant_types",
            "Public clients cannot use client_credentials: they have no secret.",
        ));
    }
    if grants.contains(&GrantType::AuthorizationCode) && uris.is_empty() {
        return Err(AppError::validation(
            "redirect_uri",
            "Add at least one redirect URI.",
        ));
    }
    Ok(())
}

/// The scopes an app may ask for; none named means `read`.
pub fn parse_scopes(raw: &str) -> Result<ScopeSet> {
    if raw.trim().is_empty() {
        ScopeSet::parse("read")
    } else {
        ScopeSet::parse(raw)
    }
}

fn new_client_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Whether `id` has the shape of a client id this server issues: 32 lowercase hex digits
/// (`new_client_id`), the same after `sys_` (system credentials), or the session
/// pseudo-client's name. Checked before a presented id is looked up or kept anywhere.
pub fn is_issued_id(id: &str) -> bool {
    let hex32 =
        |s: &str| s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    hex32(id)
        || id.strip_prefix("sys_").is_some_and(hex32)
        || id == crate::domain::exchange::SESSION_CLIENT
}

/// Replaces a registered app's secret; with an `overlap`, the old one keeps working until it
/// ends, without one it stops working at once. Records `app.secret_rotated`.
pub async fn rotate_secret(
    ctx: &Context,
    by: Actor<'_>,
    client_id: &str,
    overlap: Overlap,
) -> Result<(Client, ClientSecret)> {
    let client = get_manageable(ctx, by, client_id).await?;
    let (client, secret) = secret_rotation::rotate(ctx, client, overlap).await?;
    ctx.record(
        by.stamp(AuditEvent::here("app.secret_rotated"))
            .about(client.owner_id.as_deref())
            .target(format!("client:{}", client.id))
            .detail(json!({
                "overlap_secs": overlap.secs(),
                "previous_until": client.previous_secret.as_ref().map(|p| p.until),
            })),
    );
    Ok((client, secret))
}

/// Whether `by` manages every app, not only their own (administrators, and the operator).
fn manages_all(ctx: &Context, by: Actor<'_>) -> bool {
    ctx.policy().permits(by, ServerAction::ManageApps)
}

/// A registered app `by` may manage: their own, or any for an administrator or the operator.
/// Anything else is `NotFound`, so ids of other people's apps reveal nothing.
pub async fn get_manageable(ctx: &Context, by: Actor<'_>, client_id: &str) -> Result<Client> {
    let owns = |c: &Client| match by {
        Actor::User(u) => c.owner_id.as_deref() == Some(u.id.as_str()),
        Actor::CommandLine => false,
    };
    match storage::clients::find_client(ctx.db(), client_id).await? {
        Some(c) if c.kind == ClientKind::App && (manages_all(ctx, by) || owns(&c)) => Ok(c),
        _ => Err(AppError::NotFound("App")),
    }
}

/// The clients an account may manage.
pub async fn list_visible(ctx: &Context, actor: &User) -> Result<Vec<Client>> {
    let owner = (!manages_all(ctx, Actor::User(actor))).then_some(actor.id.as_str());
    let all = storage::clients::list_clients(ctx.db(), owner).await?;
    // System credentials are managed per tenant, not as developer apps.
    Ok(all
        .into_iter()
        .filter(|c| c.kind == ClientKind::App)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::SecretHasher;

    #[test]
    fn only_ids_of_the_issued_shape_are_looked_up() {
        assert!(is_issued_id(&new_client_id()));
        assert!(is_issued_id(&format!("sys_{}", new_client_id())));
        assert!(is_issued_id(crate::domain::exchange::SESSION_CLIENT));
        for bad in [
            "",
            "nope",
            &"a".repeat(15_000),
            &new_client_id().to_uppercase(),
            &format!("{}\n", new_client_id()),
            &format!("sys_{}0", new_client_id()),
        ] {
            assert!(!is_issued_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn previous_secret_debug_leaves_the_hash_out() {
        let hash = SecretHasher::new(b"k").hash("cs_old_secret");
        let previous = PreviousSecret {
            hash: hash.clone(),
            until: 42,
        };
        let shown = format!("{previous:?}");
        assert!(!shown.contains(&hash), "{shown}");
        assert!(shown.contains("REDACTED") && shown.contains("42"));
    }

    #[test]
    fn client_debug_leaves_the_secret_hash_out() {
        let hash = SecretHasher::new(b"k").hash("cs_secret");
        let client = Client {
            id: "c".into(),
            owner_id: None,
            name: "App".into(),
            redirect_uris: vec![],
            scopes: ScopeSet::parse("read").unwrap(),
            grant_types: vec![],
            is_public: false,
            secret_hash: Some(hash.clone()),
            created_at: 0,
            kind: ClientKind::App,
            tenant_id: None,
            roles: vec![],
            flags: ClientFlags::default(),
            oidc: OidcSettings::default(),
            profile: AppProfile::default(),
            previous_secret: None,
            access_token_format: AccessTokenFormat::Jwt,
        };
        let shown = format!("{client:?}");
        assert!(!shown.contains(&hash), "{shown}");
        assert!(shown.contains("REDACTED"));
    }

    #[test]
    fn post_logout_redirects_match_exactly() {
        let client = Client {
            id: "c".into(),
            owner_id: None,
            name: "App".into(),
            redirect_uris: vec![],
            scopes: ScopeSet::parse("openid").unwrap(),
            grant_types: vec![],
            is_public: false,
            secret_hash: None,
            created_at: 0,
            kind: ClientKind::App,
            tenant_id: None,
            roles: vec![],
            flags: ClientFlags::default(),
            oidc: OidcSettings {
                post_logout_redirect_uris: vec![
                    "https://app.example/bye".into(),
                    "http://127.0.0.1/out".into(),
                ],
                ..OidcSettings::default()
            },
            profile: AppProfile::default(),
            previous_secret: None,
            access_token_format: AccessTokenFormat::Jwt,
        };
        assert!(client.allows_post_logout_redirect("https://app.example/bye"));
        assert!(client.allows_post_logout_redirect("http://127.0.0.1/out"));
        for other in [
            "https://app.example/bye/",
            "https://app.example/Bye",
            "https://APP.example/bye",
            "https://app.example/bye?x=1",
            "https://app.example/bye#x",
            "https://app.example:443/bye",
            "http://127.0.0.1:8000/out",
            "https://app.example",
            "",
        ] {
            assert!(!client.allows_post_logout_redirect(other), "{other}");
        }
    }
}
