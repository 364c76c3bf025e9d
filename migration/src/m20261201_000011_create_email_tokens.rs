//! Single-use links mailed to a person: confirming an email address, or resetting a password.
//! Only the keyed hash of a link's token is kept. One per (account, purpose): issuing a new one
//! replaces the older.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(EmailTokens::Table)
                // Hex HMAC-SHA256 of the token.
                .col(string_len(EmailTokens::TokenHash, 64).primary_key())
                .col(string_len(EmailTokens::UserId, 36))
                .col(string_len(EmailTokens::Purpose, 16))
                // The address the link was mailed to (RFC 5321 §4.5.3.1.3: at most 254).
                .col(string_len(EmailTokens::Email, 254))
                .col(big_integer(EmailTokens::CreatedAt))
                .col(big_integer(EmailTokens::ExpiresAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(EmailTokens::Table, EmailTokens::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_email_tokens_user_purpose")
                .table(EmailTokens::Table)
                .col(EmailTokens::UserId)
                .col(EmailTokens::Purpose)
                .unique()
                .to_owned(),
        )
        .await?;
        // The janitor deletes by expiry.
        m.create_index(
            Index::create()
                .name("idx_email_tokens_expires_at")
                .table(EmailTokens::Table)
                .col(EmailTokens::ExpiresAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(EmailTokens::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum EmailTokens {
    Table,
    TokenHash,
    UserId,
    Purpose,
    Email,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
