//! Persistence: the only module that speaks sea-orm (and Redis, for `--redis-url`). Repositories
//! take a `&Db`, return domain types and map `DbErr` to `AppError` (a unique violation becomes
//! `Conflict`).

pub mod audit;
pub mod clients;
pub mod consents;
pub mod credentials;
mod entity;
pub mod invitations;
pub mod keys;
pub mod limits;
pub mod limits_redis;
pub mod purge;
pub mod secrets;
pub mod session_tokens;
pub mod sessions;
pub mod tenants;
pub mod tokens;
pub mod users;

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr, SqlErr};

use crate::config::DatabaseUrl;
use crate::error::AppError;

/// A pooled database connection (cheap to clone).
pub type Db = DatabaseConnection;

/// Opens the pool. SQLite gets WAL, `synchronous=NORMAL` (durable across process crashes, which
/// is what WAL guarantees), foreign keys and a busy timeout so concurrent writers queue rather
/// than fail. SQLite writes one at a time whatever the pool size, and the hot reads are cached
/// (`runtime::cache`), so four connections suffice; each one costs a thread and a page cache
/// (SQLite's default 2 MiB: smaller caches slowed the writes into million-row indexes).
pub async fn connect(url: &DatabaseUrl) -> anyhow::Result<Db> {
    let mut opts = ConnectOptions::new(url.expose().to_owned());
    opts.sqlx_logging(false)
        .acquire_timeout(Duration::from_secs(10))
        .max_connections(if url.is_sqlite() { 4 } else { 16 })
        .min_connections(1)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
        });
    Ok(Database::connect(opts).await?)
}

/// Applies pending migrations.
pub async fn migrate(db: &Db) -> anyhow::Result<()> {
    Migrator::up(db, None).await?;
    Ok(())
}

/// Cheap round trip used by the health check.
pub async fn ping(db: &Db) -> bool {
    db.ping().await.is_ok()
}

/// Maps a database error: unique violations become `Conflict`, everything else `Internal`.
pub(crate) fn map_err(err: DbErr) -> AppError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => AppError::Conflict("already exists".into()),
        _ => AppError::internal(err),
    }
}

/// Unique-key lookups without sea-orm's `.one()`, which binds `LIMIT ?`: SQLite re-prepares a
/// statement whose LIMIT is a bound parameter on every call (measurable on the hot paths). A
/// primary or unique key needs no limit. Only for queries that match at most one row.
pub(crate) trait UniqueExt<E: sea_orm::EntityTrait> {
    /// The single matching row, if any.
    async fn unique(self, db: &impl sea_orm::ConnectionTrait) -> Result<Option<E::Model>, DbErr>;
}

impl<E: sea_orm::EntityTrait> UniqueExt<E> for sea_orm::Select<E> {
    async fn unique(self, db: &impl sea_orm::ConnectionTrait) -> Result<Option<E::Model>, DbErr> {
        Ok(self.all(db).await?.into_iter().next())
    }
}
