//! The audit log's background writer. Events are handed over through a bounded queue and written
//! in batches, so no request waits on an insert; if the queue is full an event is dropped and
//! counted (and logged) rather than slowing the caller. A crash loses what was queued but not yet
//! written: at most the last quarter-second or so. Each event is timed as it is queued, by the
//! writer's clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, mpsc, oneshot};

use crate::clock::Clock;
use crate::domain::audit::AuditEvent;
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
    /// What events are timed by.
    clock: Clock,
}

impl Auditor {
    /// Starts the background writer, timing events by the system clock (the command line,
    /// whose clock nobody moves).
    pub fn start(db: Db) -> Self {
        Self::start_timed(db, Clock::default())
    }

    /// Starts the background writer, timing events by `clock`: the server's one clock, so an
    /// event's time agrees with the expiries judged beside it.
    pub fn start_timed(db: Db, clock: Clock) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        let wake = Arc::new(Notify::new());
        tokio::spawn(writer(db, rx, wake.clone()));
        Self {
            tx,
            wake,
            dropped: Arc::default(),
            clock,
        }
    }

    /// Queues an event without waiting, timed now. The writer is not woken for each event (a
    /// cross-thread wake per request costs more than the event), only once a batch is waiting.
    pub fn record(&self, mut event: AuditEvent) {
        event.at = self.clock.now();
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
