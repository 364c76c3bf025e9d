//! Runtime machinery, not rules: the caches behind hot lookups, the throttles and rate limits,
//! the bound on concurrent password hashing, the audit log's background writer, the last-used
//! recorder and the janitor. The domain uses these; none of them decides who may do what.

pub mod audit_writer;
pub mod cache;
pub mod hash_gate;
pub mod last_used;
pub mod limits;
pub mod purge;
pub mod throttle;
