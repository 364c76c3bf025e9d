//! The integration suite of `tests/api/` again, on PostgreSQL: every `spawn_app` gets a fresh
//! database on the server named by `PORTCULLIS_TEST_POSTGRES_URL`. Without that variable the
//! target skips the whole run (see `helpers::suite_backend`); tests about SQLite itself end early
//! here with `sqlite_only!`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

include!("api/modules.rs");

/// The database `spawn_app` starts servers on in this target.
const SUITE_BACKEND: helpers::Backend = helpers::Backend::Postgres;
