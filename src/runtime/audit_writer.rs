//! The audit log's background writer. Events are handed over through a bounded queue and written
//! in batches, so no request waits on an insert; if the queue is full (in events, or in bytes of
//! text held) an event is dropped and counted (and logged) rather than slowing the caller. A crash loses what was queued but not yet
//! written: at most the last quarter-second or so. Each event is timed as it is queued, by the
//! writer's clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, mpsc, oneshot};

use crate::clock::Clock;
use crate::domain::audit::AuditEvent;
use crate::storage::writer::{Write, Writer};

/// Events waiting for the writer, at most.
pub const QUEUE: usize = 10_000;
/// Bytes of text (ids, user agents, details) waiting for the writer, at most: events are
/// bounded one by one (`AuditEvent::bounded`), and this bounds what a burst of them can hold.
pub const QUEUE_BYTES: usize = 16 * 1024 * 1024;
/// Events written per batch, at most.
const BATCH: usize = 500;
/// How often the writer takes what is queued.
const LINGER: Duration = Duration::from_millis(250);
/// Queued events that wake the writer before its tick: one batch, so a burst is written in
/// batches as it comes rather than held in memory.
const WAKE_AT: usize = BATCH;

enum Message {
    /// An event and the bytes it counts against `QUEUE_BYTES`.
    Event(Box<AuditEvent>, usize),
    Flush(oneshot::Sender<()>),
}

/// The handle requests use to record events; cheap to clone.
#[derive(Clone)]
pub struct Auditor {
    tx: mpsc::Sender<Message>,
    /// Wakes the writer before its next tick: a flush was asked for, or the queue is filling.
    wake: Arc<Notify>,
    dropped: Arc<AtomicU64>,
    /// Bytes of text queued and not yet taken by the writer.
    queued_bytes: Arc<AtomicUsize>,
    /// What events are timed by.
    clock: Clock,
}

impl Auditor {
    /// Starts the background writer, timing events by the system clock (the command line,
    /// whose clock nobody moves).
    pub fn start(db: Writer) -> Self {
        Self::start_timed(db, Clock::default())
    }

    /// Starts the background writer, timing events by `clock`: the server's one clock, so an
    /// event's time agrees with the expiries judged beside it.
    pub fn start_timed(db: Writer, clock: Clock) -> Self {
        let (auditor, rx) = Self::unstarted(clock);
        tokio::spawn(writer(
            db,
            rx,
            auditor.wake.clone(),
            auditor.queued_bytes.clone(),
        ));
        auditor
    }

    /// A handle and the queue's receiving end, with no writer yet.
    fn unstarted(clock: Clock) -> (Self, mpsc::Receiver<Message>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let auditor = Self {
            tx,
            wake: Arc::new(Notify::new()),
            dropped: Arc::default(),
            queued_bytes: Arc::default(),
            clock,
        };
        (auditor, rx)
    }

    /// Queues an event without waiting, timed now. The writer is not woken for each event (a
    /// cross-thread wake per request costs more than the event), only once a batch is waiting.
    pub fn record(&self, event: AuditEvent) {
        let mut event = event.bounded();
        event.at = self.clock.now();
        let size = event.text_bytes();
        let before = self.queued_bytes.fetch_add(size, Ordering::AcqRel);
        let queued = before + size <= QUEUE_BYTES
            && self
                .tx
                .try_send(Message::Event(Box::new(event), size))
                .is_ok();
        if !queued {
            self.queued_bytes.fetch_sub(size, Ordering::AcqRel);
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            crate::runtime::metrics::audit_dropped();
            tracing::warn!(dropped_total = n, "audit queue full: event dropped");
        }
        if self.tx.capacity() <= QUEUE - WAKE_AT {
            self.wake.notify_one();
        }
    }

    /// Events (and flush requests) waiting for the writer.
    pub fn queued(&self) -> usize {
        QUEUE.saturating_sub(self.tx.capacity())
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
async fn writer(
    db: Writer,
    mut rx: mpsc::Receiver<Message>,
    wake: Arc<Notify>,
    queued_bytes: Arc<AtomicUsize>,
) {
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
                Ok(Message::Event(e, size)) => {
                    queued_bytes.fetch_sub(size, Ordering::AcqRel);
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
                let lost = batch.len();
                let events = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                if let Err(e) = db.write(Write::Audit(events)).await {
                    tracing::error!(error = %e, lost, "could not write audit events");
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An event as large as the builder lets one be.
    fn large_event() -> AuditEvent {
        let meta = crate::domain::audit::Meta {
            ip: Some("192.0.2.1".into()),
            user_agent: Some("u".repeat(64 * 1024)),
        };
        let strings: serde_json::Map<String, serde_json::Value> = (0..14)
            .map(|i| (format!("k{i}"), "x".repeat(250).into()))
            .collect();
        AuditEvent::new("signin.failure", &meta)
            .target("t".repeat(100))
            .detail(serde_json::Value::Object(strings))
    }

    #[tokio::test]
    async fn a_queue_of_large_events_is_bounded_in_bytes_and_drops_are_counted() {
        // No writer: nothing is taken from the queue while it fills.
        let (auditor, _rx) = Auditor::unstarted(Clock::default());
        let event = large_event();
        let size = event.clone().bounded().text_bytes();
        assert!(
            size < 8 * 1024,
            "an event is bounded one by one: {size} bytes"
        );
        assert!(
            QUEUE * size > QUEUE_BYTES,
            "these events fill the bytes before the count"
        );
        for _ in 0..QUEUE {
            auditor.record(event.clone());
        }
        let queued = auditor.queued_bytes.load(Ordering::Acquire);
        assert!(queued <= QUEUE_BYTES, "{queued} bytes queued");
        let kept = QUEUE - auditor.tx.capacity();
        assert_eq!(kept, QUEUE_BYTES / size, "as many as fit in the bytes");
        assert_eq!(
            auditor.dropped.load(Ordering::Relaxed) as usize,
            QUEUE - kept,
            "every other event dropped and counted"
        );
    }

    #[tokio::test]
    async fn a_field_set_directly_is_bounded_when_recorded() {
        let (auditor, mut rx) = Auditor::unstarted(Clock::default());
        let mut event = AuditEvent::new("token.failure", &Default::default());
        event.actor_id = Some("c".repeat(15_000));
        event.detail = Some(serde_json::json!({ "email": "e".repeat(200_000) }));
        auditor.record(event);
        let Ok(Message::Event(stored, size)) = rx.try_recv() else {
            panic!("the event was not queued");
        };
        assert!(size < 1024, "{size} bytes");
        assert!(stored.actor_id.unwrap().len() < 64);
    }
}
