//! Migrations and first-run setup under one lock. Several servers may start at the same instant
//! on one PostgreSQL database, empty or behind on migrations: exactly one of them migrates and
//! creates the first-run secrets and signing keys while the others wait for it, then each reads
//! what that one created. `portcullis migrate` takes the same lock.
//!
//! On PostgreSQL the lock is a session-level advisory lock (`pg_advisory_lock`, see the manual's
//! "Advisory Lock Functions") held by one dedicated connection opened for it, outside the pool:
//! the pool keeps its whole budget for the work done under the lock, and should this process die
//! while holding it, the server ends the session and the lock with it. SQLite serves one process's pool, and its own
//! file locking already serialises writers, so it runs the same steps without a lock.

use std::future::Future;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::{self, Connection as _, PgConnection};
use sea_orm::{DatabaseBackend, DbErr};

use super::Db;

/// The advisory-lock key every Portcullis server agrees on ("portcull" in ASCII). Advisory keys
/// are per database, so deployments sharing a PostgreSQL server but not a database never wait
/// for each other.
const SETUP_LOCK_KEY: i64 = 0x706f_7274_6375_6c6c;

/// Applies pending migrations (under the setup lock).
pub async fn migrate(db: &Db) -> anyhow::Result<()> {
    migrate_then(db, async { Ok(()) }).await
}

/// Applies pending migrations, then runs `first_run` (which creates and reads the server's
/// secrets and keys), all under the setup lock, and returns what `first_run` returns. Whatever
/// `first_run` inserts must still be insert-if-absent and read back: the lock makes servers
/// take turns, not servers of older versions, which start without it.
pub async fn migrate_then<T>(
    db: &Db,
    first_run: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    let lock = match db.get_database_backend() {
        DatabaseBackend::Postgres => Some(SetupLock::acquire(db).await?),
        _ => None,
    };
    let outcome = async {
        Migrator::up(db, None).await?;
        first_run.await
    }
    .await;
    if let Some(lock) = lock {
        lock.release().await;
    }
    outcome
}

/// A held advisory lock and the connection holding it.
struct SetupLock {
    conn: PgConnection,
}

impl SetupLock {
    /// Opens a connection like the pool's and waits for the lock on it.
    async fn acquire(db: &Db) -> anyhow::Result<Self> {
        let options = db.get_postgres_connection_pool().connect_options();
        let mut conn = PgConnection::connect_with(&options)
            .await
            .map_err(|e| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e.into())))?;
        tracing::debug!("waiting for the setup lock");
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(SETUP_LOCK_KEY)
            .execute(&mut conn)
            .await?;
        Ok(Self { conn })
    }

    /// Gives the lock back and closes the connection. Should the unlock fail, closing the
    /// connection ends the session, which releases the lock all the same.
    async fn release(mut self) {
        let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(SETUP_LOCK_KEY)
            .execute(&mut self.conn)
            .await;
        if let Err(e) = unlocked {
            tracing::warn!(error = %e, "could not release the setup lock; closing its connection");
        }
        let _ = self.conn.close().await;
    }
}
