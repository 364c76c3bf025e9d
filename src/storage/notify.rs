//! PostgreSQL's LISTEN/NOTIFY: how nodes sharing one database tell each other that something
//! changed. Sending is a `pg_notify` on the pool (or inside a transaction, which PostgreSQL
//! delivers only once it commits); receiving is a `Listener` on a connection of its own. The
//! wire stays here; what a notification means is `runtime::invalidation`'s. On SQLite, a
//! single node's database, sending does nothing and nobody listens.

use std::str::FromStr as _;
use std::time::Duration;

use sea_orm::sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use super::{Db, map_err};
use crate::config::DatabaseUrl;
use crate::error::{AppError, Result};

/// The channel naming caches a change made stale; the payload says which
/// (`runtime::invalidation::Stale`).
pub const INVALIDATE_CHANNEL: &str = "portcullis_invalidate";

/// The channel saying signing keys were added (`portcullis keys rotate`, a first-run key).
pub const KEYS_CHANNEL: &str = "portcullis_keys";

/// How long one attempt to open the listening connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Sends `payload` on `channel` to every listening node (this one included). Nothing on SQLite.
pub async fn notify(db: &impl ConnectionTrait, channel: &str, payload: &str) -> Result<()> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [channel.into(), payload.into()],
    ))
    .await
    .map_err(map_err)?;
    Ok(())
}

/// Whether `db` can carry notifications between nodes (PostgreSQL).
pub fn carries_notifications(db: &Db) -> bool {
    db.get_database_backend() == DbBackend::Postgres
}

/// A notification heard on one of this server's channels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// On `INVALIDATE_CHANNEL`, with its payload.
    Invalidate(String),
    /// On `KEYS_CHANNEL`.
    Keys,
}

/// A dedicated connection listening on both channels. It is not reconnected behind the
/// caller's back: a lost connection is reported, so the caller knows notifications were missed.
pub struct Listener(PgListener);

impl Listener {
    /// Opens the connection and listens. `name` is its `application_name`, so operators (and
    /// tests) can tell the listener apart in `pg_stat_activity`.
    pub async fn connect(url: &DatabaseUrl, name: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url.expose())
            .map_err(AppError::internal)?
            .application_name(name);
        // A pool of one, as `PgListener::connect` makes, with a bound on each attempt.
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .max_lifetime(None)
            .idle_timeout(None)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(AppError::internal)?;
        let mut listener = PgListener::connect_with(&pool)
            .await
            .map_err(AppError::internal)?;
        listener.ignore_pool_close_event(true);
        listener.eager_reconnect(false);
        listener
            .listen_all([INVALIDATE_CHANNEL, KEYS_CHANNEL])
            .await
            .map_err(AppError::internal)?;
        Ok(Self(listener))
    }

    /// The next notification; an error once the connection is lost (notifications sent since
    /// may be missed).
    pub async fn next(&mut self) -> Result<Heard> {
        loop {
            let heard = self.0.try_recv().await.map_err(AppError::internal)?;
            let Some(n) = heard else {
                return Err(AppError::internal(anyhow::anyhow!(
                    "the listening connection was lost"
                )));
            };
            match n.channel() {
                INVALIDATE_CHANNEL => return Ok(Heard::Invalidate(n.payload().to_owned())),
                KEYS_CHANNEL => return Ok(Heard::Keys),
                _ => continue,
            }
        }
    }
}
