//! Schema history for Portcullis. Migrations are frozen once released: never edit one, add a new
//! file. They use sea-query only (never the application's entities, which change over time) so
//! the same history applies to SQLite and PostgreSQL.
//!
//! Timestamps are stored as Unix seconds (`BIGINT`): comparisons in SQL are then identical on
//! both backends and cheap to index.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_create_foundation;
mod m20261122_000002_create_oauth;
mod m20261122_000003_create_credentials;
mod m20261122_000004_add_system_credentials;
mod m20261122_000005_create_audit_events;
mod m20261122_000006_index_expiries;
mod m20261201_000001_create_tenant_invitations;
mod m20261201_000002_add_client_flags;
mod m20261201_000003_create_session_tokens;
mod m20261201_000004_add_family_auth_time;
mod m20261201_000005_add_oidc_settings;
mod m20261201_000006_add_session_devices;
mod m20261201_000009_add_key_activation;
mod m20261201_000010_create_shared_limits;
mod m20261201_000011_create_email_tokens;
mod m20261201_000012_create_second_factors;
mod m20261201_000013_create_passkeys;
mod m20261201_000014_add_user_disabled;
mod m20261201_000015_create_usage_rollups;
mod m20261201_000016_add_app_profile;
mod m20261201_000017_create_opaque_access_tokens;

/// Applies every migration in order; called at server start and by `portcullis migrate`.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_foundation::Migration),
            Box::new(m20261122_000002_create_oauth::Migration),
            Box::new(m20261122_000003_create_credentials::Migration),
            Box::new(m20261122_000004_add_system_credentials::Migration),
            Box::new(m20261122_000005_create_audit_events::Migration),
            Box::new(m20261122_000006_index_expiries::Migration),
            Box::new(m20261201_000001_create_tenant_invitations::Migration),
            Box::new(m20261201_000002_add_client_flags::Migration),
            Box::new(m20261201_000003_create_session_tokens::Migration),
            Box::new(m20261201_000004_add_family_auth_time::Migration),
            Box::new(m20261201_000005_add_oidc_settings::Migration),
            Box::new(m20261201_000006_add_session_devices::Migration),
            Box::new(m20261201_000009_add_key_activation::Migration),
            Box::new(m20261201_000010_create_shared_limits::Migration),
            Box::new(m20261201_000011_create_email_tokens::Migration),
            Box::new(m20261201_000012_create_second_factors::Migration),
            Box::new(m20261201_000013_create_passkeys::Migration),
            Box::new(m20261201_000014_add_user_disabled::Migration),
            Box::new(m20261201_000015_create_usage_rollups::Migration),
            Box::new(m20261201_000016_add_app_profile::Migration),
            Box::new(m20261201_000017_create_opaque_access_tokens::Migration),
        ]
    }
}
