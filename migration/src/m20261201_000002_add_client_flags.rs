//! Two flags on OAuth clients that only server administrators set: `resource_server` (may
//! introspect tokens issued to other clients and long-lived credentials) and `first_party` (an
//! app of the deployment itself, never shown the consent page). Both default to false: every
//! existing client is an ordinary third-party app until an administrator says otherwise.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        for col in [OauthClients::ResourceServer, OauthClients::FirstParty] {
            m.alter_table(
                Table::alter()
                    .table(OauthClients::Table)
                    .add_column(boolean(col).default(false))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in [OauthClients::FirstParty, OauthClients::ResourceServer] {
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
    ResourceServer,
    FirstParty,
}
