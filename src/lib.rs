//! Portcullis: a self-hosted OAuth 2.0 authorization server and API-credential platform.
//!
//! Layers, outermost first: `http` (actix handlers, pages, error mapping) → `domain` (rules and
//! types) → `storage` (sea-orm, the only database code).

pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
pub mod http;
pub mod runtime;
pub mod secret;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
