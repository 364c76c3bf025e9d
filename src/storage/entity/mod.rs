//! sea-orm entities, private to `storage`: nothing outside this module sees a `Model`.

pub mod audit_events;
pub mod auth_codes;
pub mod consents;
pub mod credentials;
pub mod email_tokens;
pub mod oauth_clients;
pub mod opaque_access_tokens;
pub mod passkeys;
pub mod recovery_codes;
pub mod refresh_tokens;
pub mod revoked_access_tokens;
pub mod server_secrets;
pub mod server_settings;
pub mod session_tokens;
pub mod sessions;
pub mod signing_keys;
pub mod tenant_invitations;
pub mod tenant_members;
pub mod tenants;
pub mod token_families;
pub mod totp_factors;
pub mod users;
