//! The domain's one entry shape: `Context` bundles what every operation may need — the storage
//! handle, the caches, the secret hasher, the bound on password hashing, the audit log, the
//! clock, the authorization policy, the usage counts, the WebAuthn relying party and, when the server has mail, its
//! outbox — built once at startup (or by a command-line subcommand) and passed by reference.
//! `Actor` says who performs an operation, so operations record their own audit events whether a
//! person on the web or the operator at the command line asked for them.
//!
//! Nothing here decides anything: rules live in the operations and in `domain::policy`.

use std::sync::Arc;

use crate::clock::Clock;
use crate::domain::audit::AuditEvent;
use crate::domain::notices::Outbox;
use crate::domain::passkeys::RelyingParty;
use crate::domain::policy::Policy;
use crate::domain::user::User;
use crate::runtime::audit_writer::Auditor;
use crate::runtime::cache::Caches;
use crate::runtime::hash_gate::HashGate;
use crate::runtime::usage::Usage;
use crate::secret::{Sealer, SecretHasher};
use crate::storage::writer::Writer;
use crate::storage::{self, Db};

/// What domain operations run with; cheap to clone (every part is a shared handle).
#[derive(Clone)]
pub struct Context {
    db: Db,
    caches: Caches,
    hasher: SecretHasher,
    sealer: Option<Sealer>,
    hash_gate: HashGate,
    auditor: Auditor,
    clock: Clock,
    policy: Policy,
    relying_party: Option<Arc<RelyingParty>>,
    outbox: Option<Outbox>,
    usage: Usage,
    writer: Writer,
}

impl Context {
    /// A context over these parts; the policy reads through the same caches, so a change one
    /// operation invalidates is seen by every decision at once. Password hashing is bounded by
    /// `HashGate::per_core` until `with_hash_gate` says otherwise.
    pub fn new(
        db: Db,
        caches: Caches,
        hasher: SecretHasher,
        auditor: Auditor,
        clock: Clock,
    ) -> Self {
        let policy = Policy::new(db.clone(), caches.clone(), clock.clone());
        Self {
            usage: Usage::new(clock.clone()),
            writer: Writer::direct(&db),
            db,
            caches,
            hasher,
            sealer: None,
            hash_gate: HashGate::per_core(),
            auditor,
            clock,
            policy,
            relying_party: None,
            outbox: None,
        }
    }

    /// This context mailing through `outbox` (the server with `--smtp-url`).
    pub fn with_outbox(mut self, outbox: Outbox) -> Self {
        self.outbox = Some(outbox);
        self
    }

    /// This context counting usage into `usage` (the server's one set of counts, which its
    /// writer flushes).
    pub fn with_usage(mut self, usage: Usage) -> Self {
        self.usage = usage;
        self
    }

    /// This context writing grouped writes (usage counts among them) through `writer`, the
    /// server's one (`storage::writer`).
    pub fn with_writer(mut self, writer: Writer) -> Self {
        self.writer = writer;
        self
    }

    /// Where grouped writes go.
    pub fn writer(&self) -> &Writer {
        &self.writer
    }

    /// Requests counted per credential and per OAuth app, not yet written.
    pub fn usage(&self) -> &Usage {
        &self.usage
    }

    /// Where notices go out; `None` when the server has no mail.
    pub fn outbox(&self) -> Option<&Outbox> {
        self.outbox.as_ref()
    }

    /// This context with password hashing bounded by `gate` (the server's configured bound).
    pub fn with_hash_gate(mut self, gate: HashGate) -> Self {
        self.hash_gate = gate;
        self
    }

    /// This context with the server's sealing key, for second-factor secrets.
    pub fn with_sealer(mut self, sealer: Sealer) -> Self {
        self.sealer = Some(sealer);
        self
    }

    /// The server's sealing key; an internal error for a context built without one.
    pub fn sealer(&self) -> crate::error::Result<&Sealer> {
        self.sealer.as_ref().ok_or_else(|| {
            crate::error::AppError::internal(anyhow::anyhow!("no sealing key loaded"))
        })
    }

    /// This context with passkeys, for this relying party (without one, passkey operations are
    /// refused).
    pub fn with_relying_party(mut self, relying_party: RelyingParty) -> Self {
        self.relying_party = Some(Arc::new(relying_party));
        self
    }

    /// The WebAuthn relying party, when passkeys are on.
    pub fn relying_party(&self) -> Option<&RelyingParty> {
        self.relying_party.as_deref()
    }

    /// The storage handle (for `storage` calls inside the domain only).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The server's caches; operations invalidate what they change.
    pub fn caches(&self) -> &Caches {
        &self.caches
    }

    /// The keyed hash stored for machine secrets.
    pub fn hasher(&self) -> &SecretHasher {
        &self.hasher
    }

    /// The server-wide bound on password hashing; every argon2 computation goes through it.
    pub fn hash_gate(&self) -> &HashGate {
        &self.hash_gate
    }

    /// The clock every expiry and audit time is read from.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Current time, Unix seconds.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The authorization policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Queues an audit event, timed by the context's clock.
    pub fn record(&self, event: AuditEvent) {
        self.auditor.record(event);
    }

    /// Waits until every event recorded so far is written, and every change announced so far
    /// has been told to the servers sharing the database: before reading the log, and before a
    /// command-line subcommand exits (both would otherwise die with the process).
    pub async fn flush(&self) {
        self.auditor.flush().await;
        if let Some(link) = self.caches.link() {
            link.flush().await;
        }
    }

    /// The audit log's queue, for services that record on their own.
    pub fn auditor(&self) -> &Auditor {
        &self.auditor
    }

    /// Whether the database answers (the health check).
    pub async fn database_answers(&self) -> bool {
        storage::ping(&self.db).await
    }
}

/// Who performs an operation: whose name the audit log records, and whom the policy judges.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    /// A signed-in account.
    User(&'a User),
    /// The operator at the server's command line (`portcullis ...`), who holds the database and
    /// so every power already.
    CommandLine,
}

impl Actor<'_> {
    /// `event`, attributed to this actor.
    pub fn stamp(self, event: AuditEvent) -> AuditEvent {
        match self {
            Actor::User(u) => event.by("user", &u.id),
            Actor::CommandLine => event.by_cli(),
        }
    }
}
