//! What a registered app says about itself on the consent page, and the secret it had before a
//! rotation with an overlap:
//! - `oauth_clients.description`, `homepage_url`, `privacy_policy_url`, `terms_url`, `logo_url`:
//!   nullable, empty for every existing app (the consent page then shows only its name).
//! - `oauth_clients.previous_secret_hash`, `previous_secret_until`: the keyed hash of the secret
//!   replaced by the last rotation and the Unix time until which it is still accepted; null when
//!   the last rotation had no overlap (or there was none). Both change together.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn columns() -> Vec<ColumnDef> {
    vec![
        text_null(OauthClients::Description),
        string_len_null(OauthClients::HomepageUrl, 2048),
        string_len_null(OauthClients::PrivacyPolicyUrl, 2048),
        string_len_null(OauthClients::TermsUrl, 2048),
        string_len_null(OauthClients::LogoUrl, 2048),
        string_len_null(OauthClients::PreviousSecretHash, 64),
        big_integer_null(OauthClients::PreviousSecretUntil),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        for mut column in columns() {
            m.alter_table(
                Table::alter()
                    .table(OauthClients::Table)
                    .add_column(&mut column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            OauthClients::PreviousSecretUntil,
            OauthClients::PreviousSecretHash,
            OauthClients::LogoUrl,
            OauthClients::TermsUrl,
            OauthClients::PrivacyPolicyUrl,
            OauthClients::HomepageUrl,
            OauthClients::Description,
        ] {
            m.alter_table(
                Table::alter()
                    .table(OauthClients::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum OauthClients {
    Table,
    Description,
    HomepageUrl,
    PrivacyPolicyUrl,
    TermsUrl,
    LogoUrl,
    PreviousSecretHash,
    PreviousSecretUntil,
}
