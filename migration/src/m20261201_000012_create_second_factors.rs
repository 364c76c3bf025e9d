//! Second factors and the policies around them:
//! - `totp_factors`: one authenticator app per person. The secret is kept encrypted under a
//!   server key (the server must compute codes, so it cannot be hashed); `confirmed` is false
//!   until the first valid code; `last_step` is the newest time step accepted, so a code is
//!   never accepted twice.
//! - `recovery_codes`: single-use codes, kept only as keyed hashes; `used_at` once spent.
//! - `server_settings`: settings an administrator changes on the pages (a second factor for
//!   everyone), one row per setting.
//! - `oauth_clients.require_second_factor`: an app only multi-factor sign-ins may authorize.
//! - `token_families.auth_methods`: how the person signed in for the grant (a JSON list), so
//!   tokens issued on refresh repeat the original `amr` and `acr`. Nullable: older families
//!   have none, which reads as a password.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(TotpFactors::Table)
                .col(string_len(TotpFactors::UserId, 36).primary_key())
                .col(text(TotpFactors::SecretSealed))
                .col(boolean(TotpFactors::Confirmed).default(false))
                .col(big_integer_null(TotpFactors::LastStep))
                .col(big_integer(TotpFactors::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(TotpFactors::Table, TotpFactors::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RecoveryCodes::Table)
                .col(string_len(RecoveryCodes::CodeHash, 64).primary_key())
                .col(string_len(RecoveryCodes::UserId, 36))
                .col(big_integer_null(RecoveryCodes::UsedAt))
                .col(big_integer(RecoveryCodes::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(RecoveryCodes::Table, RecoveryCodes::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_recovery_codes_user")
                .table(RecoveryCodes::Table)
                .col(RecoveryCodes::UserId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ServerSettings::Table)
                .col(string_len(ServerSettings::Name, 64).primary_key())
                .col(text(ServerSettings::Value))
                .col(big_integer(ServerSettings::UpdatedAt))
                .to_owned(),
        )
        .await?;
        // SQLite takes one column per ALTER TABLE.
        m.alter_table(
            Table::alter()
                .table(OauthClients::Table)
                .add_column(boolean(OauthClients::RequireSecondFactor).default(false))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(TokenFamilies::Table)
                .add_column(text_null(TokenFamilies::AuthMethods))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(TokenFamilies::Table)
                .drop_column(TokenFamilies::AuthMethods)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(OauthClients::Table)
                .drop_column(OauthClients::RequireSecondFactor)
                .to_owned(),
        )
        .await?;
        for table in [
            ServerSettings::Table.into_iden(),
            RecoveryCodes::Table.into_iden(),
            TotpFactors::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum TotpFactors {
    Table,
    UserId,
    SecretSealed,
    Confirmed,
    LastStep,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    CodeHash,
    UserId,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ServerSettings {
    Table,
    Name,
    Value,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum OauthClients {
    Table,
    RequireSecondFactor,
}

#[derive(DeriveIden)]
enum TokenFamilies {
    Table,
    AuthMethods,
}
