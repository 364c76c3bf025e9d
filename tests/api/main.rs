//! Integration tests on SQLite: each starts the real server on a random loopback port with its own
//! fresh database and talks HTTP to it. `tests/api_postgres.rs` runs the same suite on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

include!("modules.rs");

// The multi-node tests and the deployment recipe's test choose their database themselves, so they
// run in this target only (on PostgreSQL when `PORTCULLIS_TEST_POSTGRES_URL` is set) rather than
// once per database.
mod deploy_recipe;
mod nodes;
mod nodes_limits;
mod nodes_sync;

/// The database `spawn_app` starts servers on in this target.
const SUITE_BACKEND: helpers::Backend = helpers::Backend::Sqlite;
