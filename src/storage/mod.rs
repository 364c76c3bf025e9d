//! Persistence: the only module that speaks sea-orm (and Redis, for `--redis-url`). Repositories
//! take a `&Db`, return domain types and map `DbErr` to `AppError` (a unique violation becomes
//! `Conflict`, a database that cannot be reached `Unavailable`).

pub mod audit;
pub mod clients;
pub mod consents;
pub mod credentials;
pub mod email_tokens;
mod entity;
pub mod factors;
pub mod invitations;
pub mod keys;
pub mod limits;
pub mod limits_redis;
pub mod migrate;
pub mod notify;
pub mod opaque_tokens;
pub mod passkeys;
pub mod purge;
pub mod secrets;
pub mod session_tokens;
pub mod sessions;
pub mod tenants;
pub mod tokens;
pub mod usage;
pub mod user_admin;
pub mod users;
pub mod writer;

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnAcquireErr, ConnectOptions, Database, DatabaseBackend, DatabaseConnection, DbErr,
    RuntimeErr, SqlErr, sqlx,
};

use crate::config::{DatabaseUrl, PoolSettings};
use crate::error::AppError;

pub use migrate::{migrate, migrate_then};

/// A pooled database connection (cheap to clone).
pub type Db = DatabaseConnection;

/// Opens the pool. SQLite gets WAL, `synchronous=NORMAL` (durable across process crashes, which
/// is what WAL guarantees), foreign keys and a busy timeout so concurrent writers queue rather
/// than fail. SQLite writes one at a time whatever the pool size, and the hot reads are cached
/// (`runtime::cache`), so four connections suffice by default; each one costs a thread and a
/// page cache (SQLite's default 2 MiB: smaller caches slowed the writes into million-row
/// indexes).
///
/// `pool.acquire_timeout` bounds how long a request waits for a connection, opening one
/// included: sqlx retries a refused connection until then, so a database that is down costs
/// each request at most that long before it is answered `Unavailable`.
pub async fn connect(url: &DatabaseUrl, pool: PoolSettings) -> anyhow::Result<Db> {
    open(url, pool, false).await
}

/// Opens a pool; `writer`: the writer's own connection, which leaves checkpoints to
/// `checkpoint` (see there).
async fn open(url: &DatabaseUrl, pool: PoolSettings, writer: bool) -> anyhow::Result<Db> {
    let mut opts = ConnectOptions::new(url.expose().to_owned());
    opts.sqlx_logging(false)
        .acquire_timeout(pool.acquire_timeout)
        .max_connections(pool.max_connections)
        .min_connections(1)
        .map_sqlx_sqlite_opts(move |o| {
            let o = o
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            if writer {
                o.pragma("wal_autocheckpoint", "0")
            } else {
                o
            }
        });
    Ok(Database::connect(opts).await?)
}

/// Copies what the WAL holds into the database file without waiting for anyone (SQLite's
/// PASSIVE checkpoint), on a pooled connection. The writer's connection does not checkpoint
/// itself: SQLite would do it inside a commit, every thousand pages, and every write queued
/// behind that commit would wait for the copy and its `fsync`. Returns the WAL's frames and
/// how many are now in the database file.
pub async fn checkpoint(db: &Db) -> Result<(i64, i64), AppError> {
    use sea_orm::{ConnectionTrait, Statement};
    let row = db
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            "PRAGMA wal_checkpoint(PASSIVE)",
        ))
        .await
        .map_err(map_err)?;
    let Some(row) = row else { return Ok((0, 0)) };
    Ok((
        row.try_get_by_index(1).map_err(map_err)?,
        row.try_get_by_index(2).map_err(map_err)?,
    ))
}

/// The writer of the hot write paths (`writer`): on SQLite a connection of its own to the same
/// file, outside the pool, so the pool's connections keep reading while it writes.
pub async fn open_writer(db: &Db, url: &DatabaseUrl) -> anyhow::Result<writer::Writer> {
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        return Ok(writer::Writer::direct(db));
    }
    let own = open(
        url,
        PoolSettings {
            max_connections: 1,
            // The writer holds its one connection for good; this bounds only a reconnection.
            acquire_timeout: Duration::from_secs(10),
        },
        true,
    )
    .await?;
    Ok(writer::Writer::start(db, Some(own)))
}

/// How long the health check waits for the database: a readiness probe must answer in time
/// even when every connection attempt hangs.
const PING_TIMEOUT: Duration = Duration::from_secs(1);

/// Cheap round trip used by the health check, bounded by `PING_TIMEOUT`.
pub async fn ping(db: &Db) -> bool {
    matches!(
        tokio::time::timeout(PING_TIMEOUT, db.ping()).await,
        Ok(Ok(()))
    )
}

/// How the pool's connections are used right now.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolStats {
    /// Connections open (idle and in use).
    pub open: u32,
    /// Open connections waiting in the pool.
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
}

/// The pool's current use.
pub fn pool_stats(db: &Db) -> PoolStats {
    fn of<D: sqlx::Database>(pool: &sqlx::Pool<D>) -> PoolStats {
        PoolStats {
            open: pool.size(),
            idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            max: pool.options().get_max_connections(),
        }
    }
    match db.get_database_backend() {
        DatabaseBackend::Postgres => of(db.get_postgres_connection_pool()),
        DatabaseBackend::Sqlite => of(db.get_sqlite_connection_pool()),
        _ => PoolStats::default(),
    }
}

/// Maps a database error: a database that cannot be reached becomes `Unavailable`, unique
/// violations `Conflict`, everything else `Internal`.
pub(crate) fn map_err(err: DbErr) -> AppError {
    if is_unreachable(&err) {
        return AppError::Unavailable(err.into());
    }
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => AppError::Conflict("already exists".into()),
        _ => AppError::internal(err),
    }
}

/// Whether an error says the database could not be reached, rather than that the statement was
/// wrong: no connection within the acquire timeout, a connection lost or refused, or PostgreSQL
/// shutting down or starting up. Such a request may succeed as is once the database is back.
pub(crate) fn is_unreachable(err: &DbErr) -> bool {
    let sqlx_err = match err {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout | ConnAcquireErr::ConnectionClosed) => {
            return true;
        }
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    match sqlx_err.as_ref() {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // SQLSTATE class 08 (connection exception) and 57P01-57P03 (the server shutting down,
        // crashed, or not yet accepting connections), PostgreSQL Appendix A.
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

/// Rows per multi-row statement. Each distinct row count is another statement that SQLite
/// prepares and keeps in the connection's statement cache (hundreds of KB each for wide inserts),
/// so batches go in chunks of these sizes only: at most seven statements per kind whatever the
/// batches, and a batch of n rows takes as many statements as n has bits set (fewer sizes meant
/// more statements per group, which the write paths measured as CPU).
const CHUNKS: [usize; 7] = [64, 32, 16, 8, 4, 2, 1];

/// `items` cut into chunks of the sizes in `CHUNKS`, largest first.
pub(crate) fn chunks<T>(items: &[T]) -> Vec<&[T]> {
    let mut out = Vec::new();
    let mut rest = items;
    for size in CHUNKS {
        while rest.len() >= size {
            let (chunk, tail) = rest.split_at(size);
            out.push(chunk);
            rest = tail;
        }
    }
    out
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
