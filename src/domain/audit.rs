//! The audit log. Events are handed to a background writer through a bounded queue and written
//! in batches, so no request waits on an insert; if the queue is full an event is dropped and
//! counted (and logged) rather than slowing the caller. A crash loses what was queued but not yet
//! written: at most the last quarter-second or so.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{Notify, mpsc, oneshot};

use crate::error::Result;
use crate::storage::{self, Db};

/// Events waiting for the writer, at most.
pub const QUEUE: usize = 10_000;
/// Events written per batch, at most.
const BATCH: usize = 500;
/// How often the writer takes what is queued.
const LINGER: Duration = Duration::from_millis(250);
/// Queued events that wake the writer before its tick: one batch, so a burst is written in
/// batches as it comes rather than held in memory.
const WAKE_AT: usize = BATCH;

/// One security event.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEvent {
    /// UUID v7 (time-ordered; also the pagination cursor).
    pub id: String,
    /// Unix seconds.
    pub at: i64,
    /// What happened, e.g. `signin.failure`, `credential.created`, `token.issued`.
    pub event_type: String,
    /// `user`, `credential`, `client`, `cli` (the operator at the server's command line) or
    /// `anonymous`.
    pub actor_type: String,
    /// Who did it (an id, never a secret).
    pub actor_id: Option<String>,
    /// The account the event concerns (whose security log shows it).
    pub subject_user_id: Option<String>,
    /// Tenant.
    pub tenant_id: Option<String>,
    /// What it was done to, e.g. `credential:<id>`.
    pub target: Option<String>,
    /// Source address.
    pub ip: Option<String>,
    /// Source user agent.
    pub user_agent: Option<String>,
    /// `success` or `failure`.
    pub outcome: String,
    /// Extra facts (grant type, scopes...), never secrets.
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
}

tokio::task_local! {
    static META: Meta;
}

/// Runs `fut` with `meta` as the request's origin, so events recorded deep in the domain carry
/// the address and user agent without threading them through every call.
pub async fn with_meta<F: std::future::Future>(meta: Meta, fut: F) -> F::Output {
    META.scope(meta, fut).await
}

/// Where a request came from.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    /// Client address.
    pub ip: Option<String>,
    /// User agent.
    pub user_agent: Option<String>,
}

impl Meta {
    /// The origin of the request being handled (empty outside one).
    pub fn current() -> Meta {
        META.try_with(Clone::clone).unwrap_or_default()
    }
}

impl AuditEvent {
    /// A successful event of `event_type` from the current request's origin.
    pub fn here(event_type: &str) -> Self {
        Self::new(event_type, &Meta::current())
    }

    /// A successful event of `event_type`, by nobody yet.
    pub fn new(event_type: &str, meta: &Meta) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            at: time::OffsetDateTime::now_utc().unix_timestamp(),
            event_type: event_type.to_owned(),
            actor_type: "anonymous".into(),
            actor_id: None,
            subject_user_id: None,
            tenant_id: None,
            target: None,
            ip: meta.ip.clone(),
            user_agent: meta.user_agent.clone(),
            outcome: "success".into(),
            detail: None,
        }
    }

    /// Done by a user, about themselves.
    pub fn by_user(mut self, user_id: &str) -> Self {
        self.actor_type = "user".into();
        self.actor_id = Some(user_id.to_owned());
        self.subject_user_id = Some(user_id.to_owned());
        self
    }

    /// Done by some actor.
    pub fn by(mut self, actor_type: &str, actor_id: &str) -> Self {
        self.actor_type = actor_type.to_owned();
        self.actor_id = Some(actor_id.to_owned());
        self
    }

    /// Done by the operator at the server's command line (`portcullis ...`), who has no account.
    pub fn by_cli(mut self) -> Self {
        self.actor_type = "cli".into();
        self.actor_id = None;
        self
    }

    /// Concerning this account.
    pub fn about(mut self, user_id: Option<&str>) -> Self {
        self.subject_user_id = user_id.map(str::to_owned);
        self
    }

    /// In this tenant.
    pub fn tenant(mut self, tenant_id: Option<&str>) -> Self {
        self.tenant_id = tenant_id.map(str::to_owned);
        self
    }

    /// Done to this.
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    /// It failed.
    pub fn failed(mut self) -> Self {
        self.outcome = "failure".into();
        self
    }

    /// Extra facts.
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }
}

enum Message {
    Event(Box<AuditEvent>),
    Flush(oneshot::Sender<()>),
}

/// The handle requests use to record events; cheap to clone.
#[derive(Clone)]
pub struct Auditor {
    tx: mpsc::Sender<Message>,
    /// Wakes the writer before its next tick: a flush was asked for, or the queue is filling.
    wake: Arc<Notify>,
    dropped: Arc<AtomicU64>,
}

impl Auditor {
    /// Starts the background writer.
    pub fn start(db: Db) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        let wake = Arc::new(Notify::new());
        tokio::spawn(writer(db, rx, wake.clone()));
        Self {
            tx,
            wake,
            dropped: Arc::default(),
        }
    }

    /// Queues an event without waiting. The writer is not woken for each event (a cross-thread
    /// wake per request costs more than the event), only once a batch is waiting.
    pub fn record(&self, event: AuditEvent) {
        if self.tx.try_send(Message::Event(Box::new(event))).is_err() {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            tracing::warn!(dropped_total = n, "audit queue full: event dropped");
        }
        if self.tx.capacity() <= QUEUE - WAKE_AT {
            self.wake.notify_one();
        }
    }

    /// Waits until everything queued so far is written (pages that show the log, tests).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Message::Flush(done)).await.is_ok() {
            self.wake.notify_one();
            let _ = wait.await;
        }
    }
}

/// Every `LINGER`, or when woken, takes whatever is queued and writes it in batches.
async fn writer(db: Db, mut rx: mpsc::Receiver<Message>, wake: Arc<Notify>) {
    let mut tick = tokio::time::interval(LINGER);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut batch: Vec<AuditEvent> = Vec::with_capacity(BATCH);
    let mut waiting: Vec<oneshot::Sender<()>> = Vec::new();
    let mut closed = false;
    while !closed {
        tokio::select! {
            _ = tick.tick() => {}
            _ = wake.notified() => {}
        }
        loop {
            let more = match rx.try_recv() {
                Ok(Message::Event(e)) => {
                    batch.push(*e);
                    true
                }
                Ok(Message::Flush(done)) => {
                    waiting.push(done);
                    true
                }
                Err(mpsc::error::TryRecvError::Empty) => false,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    closed = true;
                    false
                }
            };
            if batch.len() >= BATCH || (!more && !batch.is_empty()) {
                if let Err(e) = storage::audit::insert_events(&db, &batch).await {
                    tracing::error!(error = %e, lost = batch.len(), "could not write audit events");
                }
                batch.clear();
            }
            if !more {
                break;
            }
        }
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Events about this account only.
    pub subject_user_id: Option<String>,
    /// Of this type.
    pub event_type: Option<String>,
    /// By this actor.
    pub actor_id: Option<String>,
    /// At or after (Unix seconds).
    pub since: Option<i64>,
    /// Before (Unix seconds).
    pub until: Option<i64>,
    /// Older than this event id.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: u64,
}

/// A page of events, newest first, and the cursor for the next page.
pub async fn list(db: &Db, filter: &Filter) -> Result<(Vec<AuditEvent>, Option<String>)> {
    let mut events = storage::audit::list_events(db, filter, filter.limit + 1).await?;
    let next = if events.len() as u64 > filter.limit {
        events.truncate(filter.limit as usize);
        events.last().map(|e| e.id.clone())
    } else {
        None
    };
    Ok((events, next))
}
