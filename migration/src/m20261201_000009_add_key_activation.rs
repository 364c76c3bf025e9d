//! `signing_keys.activates_at`: when a rotated key starts signing (Unix seconds). `portcullis
//! keys rotate` dates it a few seconds ahead, so every node publishes and loads the key before
//! any node signs with it. Nullable: keys made before it, and first-run keys, sign at once.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(SigningKeys::Table)
                .add_column(big_integer_null(SigningKeys::ActivatesAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(SigningKeys::Table)
                .drop_column(SigningKeys::ActivatesAt)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    ActivatesAt,
}
