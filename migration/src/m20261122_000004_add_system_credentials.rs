//! System credentials: OAuth clients that belong to a tenant and carry roles (`kind` = `system`;
//! registered apps are `app`). `roles` is a JSON array of `{role, resource?, resource_instance?}`;
//! an empty array means full access.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        m.alter_table(
            Table::alter()
                .table(OauthClients::Table)
                .add_column(string_len_null(OauthClients::TenantId, 36))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(OauthClients::Table)
                .add_column(string_len(OauthClients::Kind, 16).default("app"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(OauthClients::Table)
                .add_column(text(OauthClients::Roles).default("[]"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_oauth_clients_tenant")
                .table(OauthClients::Table)
                .col(OauthClients::TenantId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_oauth_clients_tenant")
                .table(OauthClients::Table)
                .to_owned(),
        )
        .await?;
        for col in [
            OauthClients::Roles,
            OauthClients::Kind,
            OauthClients::TenantId,
        ] {
            m.alter_table(
                Table::alter()
                    .table(OauthClients::Table)
                    .drop_column(col)
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
    TenantId,
    Kind,
    Roles,
}
