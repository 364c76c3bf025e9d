//! Runtime machinery, not rules: the caches behind hot lookups, the throttles and rate limits,
//! the bound on concurrent password hashing, the audit log's background writer, the mail sender
//! and how often mail may be asked for, the last-used recorder, the usage counts, the janitor, the
//! write-ahead log's checkpointer, the metrics the
//! server exports and the note of a database outage. The domain uses these; none of them
//! decides who may do what.

pub mod audit_writer;
pub mod cache;
pub mod checkpointer;
pub mod hash_gate;
pub mod invalidation;
pub mod key_reloader;
pub mod last_used;
pub mod limits;
pub mod mail_throttle;
pub mod mailer;
pub mod metrics;
pub mod outage;
pub mod purge;
pub mod throttle;
pub mod usage;
