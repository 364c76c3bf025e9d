//! Opaque access tokens, chosen per client:
//! - `oauth_clients.access_token_format`: `jwt` (every existing client, and the default) or
//!   `opaque`.
//! - `opaque_access_tokens`: one row per opaque token issued, keyed by the keyed hash of the token
//!   (never the token), holding the claims a JWT would have carried (JSON), its `jti`, client and
//!   expiry. Revocation goes through `revoked_access_tokens` by `jti`, as for JWTs; the janitor
//!   deletes rows by expiry.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(OauthClients::Table)
                .add_column(string_len(OauthClients::AccessTokenFormat, 8).default("jwt"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(OpaqueAccessTokens::Table)
                // Hex HMAC-SHA256 of the token.
                .col(string_len(OpaqueAccessTokens::TokenHash, 64).primary_key())
                .col(string_len(OpaqueAccessTokens::Jti, 36))
                .col(string_len(OpaqueAccessTokens::ClientId, 64))
                .col(text(OpaqueAccessTokens::Claims))
                .col(big_integer(OpaqueAccessTokens::ExpiresAt))
                .to_owned(),
        )
        .await?;
        // The janitor deletes by expiry.
        m.create_index(
            Index::create()
                .name("idx_opaque_access_tokens_expires_at")
                .table(OpaqueAccessTokens::Table)
                .col(OpaqueAccessTokens::ExpiresAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(OpaqueAccessTokens::Table).to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table(OauthClients::Table)
                .drop_column(OauthClients::AccessTokenFormat)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum OauthClients {
    Table,
    AccessTokenFormat,
}

#[derive(DeriveIden)]
enum OpaqueAccessTokens {
    Table,
    TokenHash,
    Jti,
    ClientId,
    Claims,
    ExpiresAt,
}
