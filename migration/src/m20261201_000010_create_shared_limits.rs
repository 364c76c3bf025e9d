//! The counts that servers sharing one PostgreSQL database keep together, so that a limit holds
//! for the whole deployment rather than once per server: each rate-limit bucket's GCRA state
//! (its theoretical arrival time, in microseconds) with the requests counted in the current
//! minute, and each failure throttle key's recent failure times with the "throttled until"
//! verdict they imply. A single SQLite server keeps both in memory and never writes here; the
//! tables exist on every backend so the schema is the same everywhere. Rows whose `expires_at`
//! has passed tell nothing any more and are removed by the janitor.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(RateBuckets::Table)
                .col(text(RateBuckets::Bucket).primary_key())
                .col(big_integer(RateBuckets::TatUs))
                .col(big_integer(RateBuckets::Granted))
                .col(big_integer(RateBuckets::UsageMinute))
                .col(big_integer(RateBuckets::UsageCount))
                .col(big_integer(RateBuckets::ExpiresAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(FailureCounts::Table)
                .col(text(FailureCounts::ThrottleKey).primary_key())
                // Unix seconds of the newest failures, comma-separated, at most the limit's
                // worth: a handful of numbers, not a log.
                .col(text(FailureCounts::Times))
                .col(big_integer(FailureCounts::ThrottledUntil))
                .col(big_integer(FailureCounts::ThrottledAt))
                .col(big_integer(FailureCounts::ExpiresAt))
                .to_owned(),
        )
        .await?;
        for (name, table, col) in [
            (
                "idx_rate_buckets_expires_at",
                RateBuckets::Table.into_iden(),
                RateBuckets::ExpiresAt.into_iden(),
            ),
            (
                "idx_failure_counts_expires_at",
                FailureCounts::Table.into_iden(),
                FailureCounts::ExpiresAt.into_iden(),
            ),
            (
                "idx_failure_counts_throttled_at",
                FailureCounts::Table.into_iden(),
                FailureCounts::ThrottledAt.into_iden(),
            ),
        ] {
            m.create_index(Index::create().name(name).table(table).col(col).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(FailureCounts::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(RateBuckets::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum RateBuckets {
    Table,
    Bucket,
    TatUs,
    Granted,
    UsageMinute,
    UsageCount,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum FailureCounts {
    Table,
    ThrottleKey,
    Times,
    ThrottledUntil,
    ThrottledAt,
    ExpiresAt,
}
