//! Integration tests: each starts the real server on a random loopback port with its own fresh
//! database and talks HTTP to it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin_pages;
mod audit;
mod browser;
mod caching;
mod cli;
mod client_flags;
mod credential_pages;
mod credentials;
mod foundation;
mod grants;
mod hardening;
mod helpers;
mod invitations;
mod members;
mod membership_helpers;
mod oauth;
mod oauth_client;
mod oauth_helpers;
mod openapi;
mod policy;
mod properties;
mod seeds;
mod session_tokens;
mod system_credentials;
mod tenancy;
