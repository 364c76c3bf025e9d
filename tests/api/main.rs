//! Integration tests: each starts the real server on a random loopback port with its own fresh
//! database and talks HTTP to it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin_pages;
mod api_keys;
mod attenuation;
mod audit;
mod bearer_challenges;
mod browser;
mod caching;
mod cli;
mod client_flags;
mod credential_lists;
mod credential_pages;
mod credentials;
mod email_verified;
mod foundation;
mod grants;
mod hardening;
mod helpers;
mod input_bounds;
mod invitations;
mod members;
mod membership_helpers;
mod no_store;
mod oauth;
mod oauth_client;
mod oauth_helpers;
mod oidc;
mod oidc_keys;
mod oidc_settings;
mod openapi;
mod personal_tokens;
mod policy;
mod properties;
mod proxies;
mod route_walk;
mod seeds;
mod session_tokens;
mod sign_in_load;
mod system_credentials;
mod tenancy;
mod tenant_credentials;
mod token_endpoint_failures;
