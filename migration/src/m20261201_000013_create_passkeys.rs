//! Passkeys (WebAuthn credentials) a person registered to sign in with. Each row keeps the
//! credential as the WebAuthn library serialized it (its public key, never a secret), the
//! credential id it is looked up by at sign-in (unique: one authenticator key belongs to one
//! account), the name its owner gave it, and its signature counter, kept in a column of its own
//! so a use can advance it only from the value it was read at.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Passkeys::Table)
                .col(string_len(Passkeys::Id, 36).primary_key())
                .col(string_len(Passkeys::UserId, 36))
                // A credential id is at most 1023 bytes (WebAuthn §5.8.3): 1364 in base64url.
                .col(string_len(Passkeys::CredentialId, 1400))
                .col(string_len(Passkeys::Name, 200))
                .col(text(Passkeys::Passkey))
                .col(big_integer(Passkeys::SignCount))
                .col(big_integer(Passkeys::CreatedAt))
                .col(big_integer_null(Passkeys::LastUsedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Passkeys::Table, Passkeys::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_passkeys_credential_id")
                .table(Passkeys::Table)
                .col(Passkeys::CredentialId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_passkeys_user_id")
                .table(Passkeys::Table)
                .col(Passkeys::UserId)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Passkeys::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Passkeys {
    Table,
    Id,
    UserId,
    CredentialId,
    Name,
    Passkey,
    SignCount,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
