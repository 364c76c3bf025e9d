//! OpenID Connect settings and facts:
//! - `oauth_clients.id_token_signed_response_alg`: `RS256` or `EdDSA`; `RS256` for every client
//!   that has not chosen, as OpenID Connect Dynamic Client Registration §2 defines the default
//!   and as relying-party libraries expect unless configured otherwise.
//! - `oauth_clients.post_logout_redirect_uris`: a JSON array, like `redirect_uris`; empty.
//! - `users.email_verified`: whether an administrator confirmed the address; false for all.
//! - `token_families.sid`: the browser session a grant was approved in, so an ID token issued on
//!   refresh repeats it. Nullable: older families have none.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        let columns = [
            (
                OauthClients::Table.into_iden(),
                string_len(OauthClients::IdTokenSignedResponseAlg, 16)
                    .default("RS256")
                    .to_owned(),
            ),
            (
                OauthClients::Table.into_iden(),
                text(OauthClients::PostLogoutRedirectUris)
                    .default("[]")
                    .to_owned(),
            ),
            (
                Users::Table.into_iden(),
                boolean(Users::EmailVerified).default(false).to_owned(),
            ),
            (
                TokenFamilies::Table.into_iden(),
                string_len_null(TokenFamilies::Sid, 64),
            ),
        ];
        for (table, mut column) in columns {
            m.alter_table(
                Table::alter()
                    .table(table)
                    .add_column(&mut column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            (
                TokenFamilies::Table.into_iden(),
                TokenFamilies::Sid.into_iden(),
            ),
            (Users::Table.into_iden(), Users::EmailVerified.into_iden()),
            (
                OauthClients::Table.into_iden(),
                OauthClients::PostLogoutRedirectUris.into_iden(),
            ),
            (
                OauthClients::Table.into_iden(),
                OauthClients::IdTokenSignedResponseAlg.into_iden(),
            ),
        ];
        for (table, column) in columns {
            m.alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum OauthClients {
    Table,
    IdTokenSignedResponseAlg,
    PostLogoutRedirectUris,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    EmailVerified,
}

#[derive(DeriveIden)]
enum TokenFamilies {
    Table,
    Sid,
}
