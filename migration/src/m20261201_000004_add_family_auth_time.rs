//! `token_families.auth_time`: when the person signed in to approve the grant a family comes
//! from (OpenID Connect Core §2 `auth_time`), so an ID token issued on refresh repeats the
//! original one. Nullable: families made before it, and grants without a known sign-in time,
//! have none.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(TokenFamilies::Table)
                .add_column(big_integer_null(TokenFamilies::AuthTime))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(TokenFamilies::Table)
                .drop_column(TokenFamilies::AuthTime)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum TokenFamilies {
    Table,
    AuthTime,
}
