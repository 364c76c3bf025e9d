//! Indexes the janitor needs: without them each purge statement scans the whole table while it
//! holds SQLite's write lock.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("idx_refresh_tokens_expires_at")
                .table(Alias::new("refresh_tokens"))
                .col(Alias::new("expires_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_revoked_access_tokens_expires_at")
                .table(Alias::new("revoked_access_tokens"))
                .col(Alias::new("expires_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_revoked_access_tokens_expires_at")
                .table(Alias::new("revoked_access_tokens"))
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("idx_refresh_tokens_expires_at")
                .table(Alias::new("refresh_tokens"))
                .to_owned(),
        )
        .await
    }
}
