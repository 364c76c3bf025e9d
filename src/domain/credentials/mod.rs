//! Long-lived credentials people create for scripts and integrations: API keys, personal access
//! tokens (`sk-`), the personal token and the account secret key. One model for all: a keyed
//! hash of the secret, a display prefix, permissions, optional expiry and IP allowlist.
//!
//! Verifying one costs a checksum check, one HMAC and one indexed lookup; "last used" is
//! recorded in memory and written in batches (`LastUsed`), never once per request.
//!
//! This file only names the parts; the secret's format (prefixes, checksum) lives in
//! `domain::secret_format`, not here.

mod edit;
mod issue;
mod model;
mod parse;
mod service;
mod verify;

pub use edit::{MAX_ROLL_OVERLAP, Rolled};
pub use issue::NewApiKey;
pub use model::{
    Credential, CredentialKind, Environment, Issued, PERSONAL_TOKEN_IDLE, PERSONAL_TOKEN_MAX,
    Refusal,
};
pub use parse::{format_time, parse_future, parse_networks};
pub use service::CredentialService;
