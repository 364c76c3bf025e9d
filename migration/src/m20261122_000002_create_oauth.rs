//! OAuth 2.0: registered clients, authorization codes, token families with their refresh
//! tokens, revoked access tokens, remembered consent and JWT signing keys.
//!
//! Every stored secret (client secret, code, refresh token) is an HMAC-SHA256 under a server key:
//! the database never holds one in the clear.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(OauthClients::Table)
                .col(string_len(OauthClients::Id, 64).primary_key())
                .col(string_len_null(OauthClients::OwnerId, 36))
                .col(string_len(OauthClients::Name, 100))
                .col(string_len_null(OauthClients::SecretHash, 64))
                .col(text(OauthClients::RedirectUris))
                .col(text(OauthClients::Scopes))
                .col(text(OauthClients::GrantTypes))
                .col(boolean(OauthClients::IsPublic))
                .col(big_integer(OauthClients::CreatedAt))
                .col(big_integer(OauthClients::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(OauthClients::Table, OauthClients::OwnerId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        index(
            m,
            "idx_oauth_clients_owner",
            OauthClients::Table,
            OauthClients::OwnerId,
        )
        .await?;

        // A family is everything issued from one authorization code: its refresh-token chain
        // and the access tokens minted along it. Revoking the family revokes them all at once.
        m.create_table(
            Table::create()
                .table(TokenFamilies::Table)
                .col(string_len(TokenFamilies::Id, 36).primary_key())
                .col(string_len(TokenFamilies::ClientId, 64))
                .col(string_len(TokenFamilies::UserId, 36))
                .col(text(TokenFamilies::Scope))
                .col(big_integer(TokenFamilies::CreatedAt))
                .col(big_integer_null(TokenFamilies::RevokedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_token_families_user_client")
                .table(TokenFamilies::Table)
                .col(TokenFamilies::UserId)
                .col(TokenFamilies::ClientId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AuthCodes::Table)
                .col(string_len(AuthCodes::CodeHash, 64).primary_key())
                .col(string_len(AuthCodes::ClientId, 64))
                .col(string_len(AuthCodes::UserId, 36))
                .col(text(AuthCodes::RedirectUri))
                .col(text(AuthCodes::Scope))
                .col(text(AuthCodes::Extensions))
                .col(big_integer(AuthCodes::ExpiresAt))
                .col(big_integer_null(AuthCodes::ConsumedAt))
                .col(string_len_null(AuthCodes::FamilyId, 36))
                .col(big_integer(AuthCodes::CreatedAt))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "idx_auth_codes_expires_at",
            AuthCodes::Table,
            AuthCodes::ExpiresAt,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RefreshTokens::Table)
                .col(string_len(RefreshTokens::TokenHash, 64).primary_key())
                .col(string_len(RefreshTokens::FamilyId, 36))
                .col(string_len(RefreshTokens::ClientId, 64))
                .col(string_len(RefreshTokens::UserId, 36))
                .col(text(RefreshTokens::Scope))
                .col(big_integer(RefreshTokens::ExpiresAt))
                .col(big_integer_null(RefreshTokens::RotatedAt))
                .col(big_integer(RefreshTokens::CreatedAt))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "idx_refresh_tokens_family",
            RefreshTokens::Table,
            RefreshTokens::FamilyId,
        )
        .await?;

        // Access tokens are self-contained JWTs; those revoked before they expire are listed
        // here until their expiry.
        m.create_table(
            Table::create()
                .table(RevokedAccessTokens::Table)
                .col(string_len(RevokedAccessTokens::Jti, 36).primary_key())
                .col(big_integer(RevokedAccessTokens::ExpiresAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Consents::Table)
                .col(string_len(Consents::UserId, 36))
                .col(string_len(Consents::ClientId, 64))
                .col(text(Consents::Scope))
                .col(big_integer(Consents::CreatedAt))
                .col(big_integer(Consents::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(Consents::UserId)
                        .col(Consents::ClientId),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(SigningKeys::Table)
                .col(string_len(SigningKeys::Kid, 64).primary_key())
                .col(string_len(SigningKeys::Alg, 16))
                .col(text(SigningKeys::PrivateKey))
                .col(text(SigningKeys::PublicKey))
                .col(big_integer(SigningKeys::CreatedAt))
                .col(big_integer_null(SigningKeys::RetiredAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SigningKeys::Table.into_iden(),
            Consents::Table.into_iden(),
            RevokedAccessTokens::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            AuthCodes::Table.into_iden(),
            TokenFamilies::Table.into_iden(),
            OauthClients::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

async fn index(
    m: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    col: impl IntoIden,
) -> Result<(), DbErr> {
    m.create_index(
        Index::create()
            .name(name)
            .table(table.into_iden())
            .col(col.into_iden())
            .to_owned(),
    )
    .await
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum OauthClients {
    Table,
    Id,
    OwnerId,
    Name,
    SecretHash,
    RedirectUris,
    Scopes,
    GrantTypes,
    IsPublic,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TokenFamilies {
    Table,
    Id,
    ClientId,
    UserId,
    Scope,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AuthCodes {
    Table,
    CodeHash,
    ClientId,
    UserId,
    RedirectUri,
    Scope,
    Extensions,
    ExpiresAt,
    ConsumedAt,
    FamilyId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    TokenHash,
    FamilyId,
    ClientId,
    UserId,
    Scope,
    ExpiresAt,
    RotatedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RevokedAccessTokens {
    Table,
    Jti,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Consents {
    Table,
    UserId,
    ClientId,
    Scope,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Kid,
    Alg,
    PrivateKey,
    PublicKey,
    CreatedAt,
    RetiredAt,
}
