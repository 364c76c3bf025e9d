//! The write path of the hot grants: storing codes, spending them, issuing and rotating refresh
//! tokens, storing opaque access tokens, and the background writers' batches.
//!
//! SQLite lets one connection write at a time. With every pooled connection writing for itself,
//! concurrent requests met on the file lock and SQLite's busy handler made the losers sleep
//! (1, 2, 5, 10 … ms): under load the tail of the code exchange was sleep, not work. On SQLite a
//! single task owns one connection and applies every [`Write`] sent to it: whatever queued while
//! it was committing goes into the next transaction together, and each sender is answered only
//! once that transaction has committed, so what answered 2xx survives the process being killed
//! (WAL with `synchronous=NORMAL`). One commit then serves many requests, and no request waits
//! on the lock.
//!
//! Grouped writes must stay independent: each [`Write`] decides on the rows it touches with
//! conditional statements (`… WHERE consumed_at IS NULL`), so two redemptions of one code in one
//! group still see each other, in order, inside the transaction. When a group fails, it is rolled
//! back and its writes are applied again one transaction each, so a failing write fails alone.
//!
//! PostgreSQL has row locks and no file lock: each write runs in its own pooled transaction.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sea_orm::{DatabaseConnection, TransactionTrait};
use tokio::sync::{mpsc, oneshot};

use super::{Db, map_err, tokens};

mod apply;
use crate::domain::audit::AuditEvent;
use crate::domain::jwt::AccessClaims;
use crate::domain::tokens::{CodeRecord, RefreshRecord};
use crate::error::{AppError, Result};

/// Writes of one group, at most: bounds a transaction's length (and so the wait of the first
/// request in it) however deep the queue.
const MAX_GROUP: usize = 256;

/// Requests waiting for the writer, at most; senders beyond it wait for room (back-pressure,
/// not an error).
const QUEUE: usize = 4096;

/// One write, with everything it needs: a write can be applied again after its group was
/// rolled back.
#[derive(Debug)]
pub enum Write {
    /// Stores a code and creates the family its tokens will join.
    InsertCode {
        /// Keyed hash of the code.
        hash: String,
        /// The code.
        code: CodeRecord,
        /// Now.
        at: i64,
    },
    /// Spends a code (a replay revokes its family) and, when it was spent now, stores the
    /// first refresh token of its family: (keyed hash, record).
    ConsumeCode {
        /// Keyed hash of the code.
        hash: String,
        /// Now.
        at: i64,
        /// The refresh token to store with it.
        refresh: Option<(String, RefreshRecord)>,
    },
    /// Marks a refresh token used and stores its successor, both or neither.
    RotateRefresh {
        /// Keyed hash of the presented token.
        old: String,
        /// Keyed hash of its successor.
        new: String,
        /// The successor.
        rec: RefreshRecord,
        /// Now.
        at: i64,
    },
    /// Stores the claims an opaque access token stands for, under the token's keyed hash.
    InsertOpaque {
        /// Keyed hash of the token.
        hash: String,
        /// What it stands for.
        claims: Box<AccessClaims>,
    },
    /// Extends a live browser session's idle expiry (every request of a session).
    TouchSession {
        /// The session's row id.
        id: String,
        /// Its new idle expiry.
        expires_at: i64,
        /// Now.
        at: i64,
    },
    /// Deletes one batch of expired rows (`storage::purge`).
    Purge {
        /// Table.
        table: &'static str,
        /// Its key column.
        key: &'static str,
        /// Condition comparing a column to the cutoff.
        condition: &'static str,
        /// What has expired.
        cutoff: i64,
    },
    /// Stores audit events.
    Audit(Vec<AuditEvent>),
    /// Adds usage counts to their rollups.
    Usage(Vec<super::usage::Row>),
    /// Records when (and from where) credentials were last used: (id, unix seconds, IP).
    LastUsed(Vec<(String, i64, String)>),
}

/// What a write did.
#[derive(Debug)]
pub enum Written {
    /// Stored.
    Done,
    /// What spending a code found.
    Code(tokens::CodeOutcome),
    /// Whether a rotation won (false: the token was already used).
    Rotated(bool),
    /// Rows deleted.
    Purged(u64),
}

impl Written {
    /// What spending a code found.
    pub fn code(self) -> Result<tokens::CodeOutcome> {
        match self {
            Written::Code(outcome) => Ok(outcome),
            other => Err(mismatch(&other)),
        }
    }

    /// Rows a purge deleted.
    pub fn purged(self) -> Result<u64> {
        match self {
            Written::Purged(n) => Ok(n),
            other => Err(mismatch(&other)),
        }
    }

    /// Whether a rotation won.
    pub fn rotated(self) -> Result<bool> {
        match self {
            Written::Rotated(won) => Ok(won),
            other => Err(mismatch(&other)),
        }
    }
}

fn mismatch(w: &Written) -> AppError {
    AppError::internal(anyhow::anyhow!(
        "the writer answered {w:?} to another write"
    ))
}

struct Pending {
    write: Write,
    reply: oneshot::Sender<Result<Written>>,
}

/// Where writes go; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    route: Route,
    /// Transactions the writing task has begun (SQLite), for tests and diagnostics.
    groups: Arc<AtomicU64>,
}

#[derive(Clone)]
enum Route {
    /// The queue of the one writing task (SQLite).
    Queue(mpsc::Sender<Pending>),
    /// A transaction of its own on the pool (PostgreSQL).
    Pool(Db),
}

impl Writer {
    /// The writer for `db`: on SQLite a task owning `own` (a connection of its own to the same
    /// file, which nothing else uses); elsewhere `db`'s pool.
    pub fn start(db: &Db, own: Option<DatabaseConnection>) -> Self {
        match own {
            Some(conn) if db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite => {
                let (tx, rx) = mpsc::channel(QUEUE);
                let groups = Arc::new(AtomicU64::new(0));
                tokio::spawn(run(conn, rx, groups.clone()));
                Self {
                    route: Route::Queue(tx),
                    groups,
                }
            }
            _ => Self::direct(db),
        }
    }

    /// Writes each in a transaction of its own on `db`'s pool: PostgreSQL, and tools (the CLI,
    /// migrations) that write little.
    pub fn direct(db: &Db) -> Self {
        Self {
            route: Route::Pool(db.clone()),
            groups: Arc::default(),
        }
    }

    /// Groups the writing task has committed or tried (0 when writes go to the pool).
    pub fn groups(&self) -> u64 {
        self.groups.load(Ordering::Relaxed)
    }

    /// Applies `write`, answering once it has committed.
    pub async fn write(&self, write: Write) -> Result<Written> {
        match &self.route {
            Route::Pool(db) => alone(db, &write).await,
            Route::Queue(queue) => {
                let (reply, answer) = oneshot::channel();
                queue
                    .send(Pending { write, reply })
                    .await
                    .map_err(|_| stopped())?;
                answer.await.map_err(|_| stopped())?
            }
        }
    }
}

fn stopped() -> AppError {
    AppError::Unavailable(anyhow::anyhow!("the database writer has stopped"))
}

/// The writing task: takes whatever is queued, up to `MAX_GROUP`, and commits it as one.
async fn run(conn: DatabaseConnection, mut queue: mpsc::Receiver<Pending>, groups: Arc<AtomicU64>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while queue.recv_many(&mut group, MAX_GROUP).await > 0 {
        groups.fetch_add(1, Ordering::Relaxed);
        crate::runtime::metrics::write_group(group.len());
        commit_group(&conn, &mut group).await;
    }
}

async fn commit_group(conn: &DatabaseConnection, group: &mut Vec<Pending>) {
    match together(conn, group).await {
        Ok(results) => {
            for (p, r) in group.drain(..).zip(results) {
                let _ = p.reply.send(Ok(r));
            }
        }
        Err(e) if group.len() == 1 => {
            if let Some(p) = group.pop() {
                let _ = p.reply.send(Err(e));
            }
        }
        // One write failed (or the commit did): nothing of the group was kept. Each is tried
        // again alone, so the others are not refused for it.
        Err(_) => {
            for p in group.drain(..) {
                let r = alone(conn, &p.write).await;
                let _ = p.reply.send(r);
            }
        }
    }
}

async fn together(conn: &DatabaseConnection, group: &[Pending]) -> Result<Vec<Written>> {
    let writes: Vec<&Write> = group.iter().map(|p| &p.write).collect();
    let tx = conn.begin().await.map_err(map_err)?;
    let results = apply::all(&tx, &writes).await?;
    tx.commit().await.map_err(map_err)?;
    Ok(results)
}

async fn alone(conn: &DatabaseConnection, write: &Write) -> Result<Written> {
    let tx = conn.begin().await.map_err(map_err)?;
    let mut written = apply::all(&tx, &[write]).await?;
    tx.commit().await.map_err(map_err)?;
    written.pop().ok_or_else(|| mismatch(&Written::Done))
}

#[cfg(test)]
mod tests;
