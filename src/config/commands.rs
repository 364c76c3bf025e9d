//! The subcommands of the `portcullis` command line and their arguments (`serve` is the
//! default); the settings every subcommand shares are in the parent module.

use clap::{Args, Subcommand};

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default when no subcommand is given).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage OAuth clients.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage token-signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Inspect a credential offline (no database, no files).
    #[command(subcommand)]
    Key(KeyCommand),
}

/// `portcullis key ...`
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Say whether a string is a well-formed Portcullis secret (prefix, length, base62, CRC32
    /// checksum) and of which kind. Exit 0 when it is, 1 with the reason when it is not.
    Check {
        /// The secret to check.
        secret: String,
    },
}

/// `portcullis client ...`
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register an OAuth client and print its id and (once) its secret.
    Create(ClientCreate),
    /// Change a registered app's administrator flags and OpenID Connect settings; what is not
    /// given keeps its value.
    Set(ClientSet),
}

/// Arguments of `portcullis client create`.
#[derive(Debug, Args)]
pub struct ClientCreate {
    /// Display name shown on the consent page.
    #[arg(long)]
    pub name: String,
    /// Redirect URI (repeat for several): https, or http on loopback.
    #[arg(long = "redirect-uri")]
    pub redirect_uris: Vec<String>,
    /// Space-separated scopes the client may request [default: read].
    #[arg(long, default_value = "")]
    pub scope: String,
    /// A public client (no secret; must use PKCE).
    #[arg(long)]
    pub public: bool,
    /// Allowed grant (repeat for several; replaces the default authorization_code + refresh_token):
    /// authorization_code, refresh_token, client_credentials.
    #[arg(long = "grant")]
    pub grants: Vec<String>,
    /// Mark it a resource server: it may introspect tokens issued to other clients and
    /// long-lived credentials (API keys, personal tokens). Confidential clients only.
    #[arg(long)]
    pub resource_server: bool,
    /// Mark it first-party (an app of this deployment): people are never asked to consent.
    #[arg(long)]
    pub first_party: bool,
    /// Only people signed in with a second factor may authorize it (others are asked for one).
    #[arg(long)]
    pub require_second_factor: bool,
    /// Algorithm its OpenID Connect ID tokens are signed with: RS256 or EdDSA.
    #[arg(long, value_name = "RS256|EdDSA", default_value = "RS256")]
    pub id_token_signed_response_alg: String,
    /// Where it may send people after they sign out (repeat for several): https, or http on
    /// loopback; matched exactly.
    #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
    pub post_logout_redirect_uris: Vec<String>,
    /// Format of the access tokens it gets: jwt (self-contained; resource servers verify it with
    /// the JWKS) or opaque (a reference resource servers introspect; revocation is immediate).
    #[arg(long, value_name = "jwt|opaque", default_value = "jwt")]
    pub token_format: String,
    /// Print JSON: {"client_id": ..., "client_secret": ..., "access_token_format": ...}.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `portcullis client set`.
#[derive(Debug, Args)]
pub struct ClientSet {
    /// The app's client id.
    pub client_id: String,
    /// Whether it is a resource server (may introspect every token and credential).
    #[arg(long, value_name = "true|false")]
    pub resource_server: Option<bool>,
    /// Whether it is first-party (never shown the consent page).
    #[arg(long, value_name = "true|false")]
    pub first_party: Option<bool>,
    /// Whether only people signed in with a second factor may authorize it.
    #[arg(long, value_name = "true|false")]
    pub require_second_factor: Option<bool>,
    /// Algorithm its OpenID Connect ID tokens are signed with: RS256 or EdDSA.
    #[arg(long, value_name = "RS256|EdDSA")]
    pub id_token_signed_response_alg: Option<String>,
    /// Replace its post-logout redirect URIs with these (repeat for several).
    #[arg(
        long = "post-logout-redirect-uri",
        value_name = "URI",
        conflicts_with = "clear_post_logout_redirect_uris"
    )]
    pub post_logout_redirect_uris: Vec<String>,
    /// Remove every post-logout redirect URI.
    #[arg(long)]
    pub clear_post_logout_redirect_uris: bool,
    /// Format of the access tokens it gets from now on: jwt or opaque (tokens already issued keep
    /// theirs until they expire).
    #[arg(long, value_name = "jwt|opaque")]
    pub token_format: Option<String>,
    /// Print the app's settings as JSON instead of lines.
    #[arg(long)]
    pub json: bool,
}

/// `portcullis keys ...`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a new signing key per algorithm; every running server publishes it at once and
    /// signs with it from a few seconds later; the previous one stays published until its
    /// tokens expire.
    Rotate {
        /// Seconds from now until the new keys sign, on every server at the same moment: long
        /// enough for every server to load and publish them first. 0 switches at once (one
        /// server, or none running).
        #[arg(long, value_name = "SECS", default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=3600))]
        activation_delay_secs: u32,
    },
}

/// `portcullis user ...`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. The password is read from standard input when it is not a terminal
    /// (one line), otherwise prompted for twice; it is never accepted as a flag.
    Create(UserCreate),
    /// Mark a person's email address verified (OpenID Connect `email_verified`), or with
    /// `--unverified` not verified.
    VerifyEmail(UserVerifyEmail),
    /// Set a person's password for them (when the server has no mail for "forgot password").
    /// The new password is read like `user create` reads one; every session, session token and
    /// app sign-in of the person ends.
    ResetPassword(UserResetPassword),
    /// List every account: id, email, name, admin, status; one per line, tab-separated.
    List,
    /// Disable an account: it cannot sign in, its sessions end, and everything it holds is
    /// refused until it is enabled again.
    Disable(UserByEmail),
    /// Enable a disabled account again.
    Enable(UserByEmail),
}

/// Arguments of `portcullis user disable` and `user enable`.
#[derive(Debug, Args)]
pub struct UserByEmail {
    /// The account's email address.
    #[arg(long)]
    pub email: String,
}

/// Arguments of `portcullis user reset-password`.
#[derive(Debug, Args)]
pub struct UserResetPassword {
    /// The account's email address.
    #[arg(long)]
    pub email: String,
}

/// Arguments of `portcullis user verify-email`.
#[derive(Debug, Args)]
pub struct UserVerifyEmail {
    /// The account's email address.
    #[arg(long)]
    pub email: String,
    /// Mark the address not verified instead.
    #[arg(long)]
    pub unverified: bool,
}

/// Arguments of `portcullis user create`.
#[derive(Debug, Args)]
pub struct UserCreate {
    /// Email address used to sign in.
    #[arg(long)]
    pub email: String,
    /// Display name.
    #[arg(long)]
    pub name: String,
    /// Make the account an administrator.
    #[arg(long)]
    pub admin: bool,
}
