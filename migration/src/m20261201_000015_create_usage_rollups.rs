//! Usage over time: per credential and per OAuth app, how many requests (and how many of them
//! failed) fell in each hour and each day. Servers add their counts to a row (`requests =
//! requests + n`), so every server sharing the database contributes to one row per bucket. The
//! key is one text column (`kind:subject:granularity:start`) so the upsert names one conflict
//! target on SQLite and PostgreSQL alike and the janitor deletes by it in batches.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(UsageRollups::Table)
                .col(string_len(UsageRollups::Id, 200).primary_key())
                // `credential`, `app` (requests made with an app's access tokens) or
                // `app_tokens` (tokens the app was issued).
                .col(string_len(UsageRollups::SubjectKind, 16))
                .col(string_len(UsageRollups::SubjectId, 160))
                // `hour` or `day`.
                .col(string_len(UsageRollups::Granularity, 8))
                // Unix seconds at the start of the hour or (UTC) day.
                .col(big_integer(UsageRollups::BucketStart))
                .col(big_integer(UsageRollups::Requests))
                .col(big_integer(UsageRollups::Failures))
                .to_owned(),
        )
        .await?;
        // Charts read one subject's buckets in time order.
        m.create_index(
            Index::create()
                .name("idx_usage_rollups_subject")
                .table(UsageRollups::Table)
                .col(UsageRollups::SubjectId)
                .col(UsageRollups::Granularity)
                .col(UsageRollups::BucketStart)
                .to_owned(),
        )
        .await?;
        // The janitor removes old buckets of each granularity.
        m.create_index(
            Index::create()
                .name("idx_usage_rollups_age")
                .table(UsageRollups::Table)
                .col(UsageRollups::Granularity)
                .col(UsageRollups::BucketStart)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(UsageRollups::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum UsageRollups {
    Table,
    Id,
    SubjectKind,
    SubjectId,
    Granularity,
    BucketStart,
    Requests,
    Failures,
}
