//! Keeps SQLite's write-ahead log short (`storage::checkpoint`): four times a second, copies
//! what it holds into the database file from a pooled connection, so the writer never does it
//! inside a commit. Copying is passive: it waits for nobody and nobody waits for it.

use std::time::Duration;

use crate::storage::{self, Db};

/// How often the log is copied: at the write rates a node sustains, a few megabytes each time.
const EVERY: Duration = Duration::from_millis(250);

/// Starts the checkpointer (SQLite only: PostgreSQL keeps its own log).
pub fn spawn(db: Db) {
    if db.get_database_backend() != sea_orm::DatabaseBackend::Sqlite {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = storage::checkpoint(&db).await {
                tracing::warn!(error = %e, "could not checkpoint the write-ahead log");
            }
        }
    });
}
