//! Rules and types of Portcullis. Nothing here knows about HTTP or SQL: handlers call these
//! functions, and these functions call `storage` for persistence.

pub mod accounts;
pub mod audit;
pub mod auth_methods;
pub mod bounded;
pub mod browser_sessions;
pub mod client;
pub mod client_flags;
pub mod client_settings;
pub mod consent;
pub mod context;
pub mod credentials;
pub mod exchange;
pub mod grants;
pub mod introspection;
pub mod jwt;
pub mod logout;
pub mod membership;
pub mod oauth;
pub mod oidc;
pub mod oidc_request;
pub mod password;
pub mod people;
pub mod policy;
pub mod principal;
pub mod redirect_uri;
pub mod return_to;
pub mod roles;
pub mod scope;
pub mod secret_format;
pub mod session_tokens;
pub mod signing_keys;
pub mod system_credentials;
pub mod tenant;
pub mod tokens;
pub mod user;
