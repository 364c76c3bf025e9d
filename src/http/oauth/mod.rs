//! OAuth 2.0 endpoints, on oxide-auth where it has a flow (authorization, code exchange,
//! refresh, client credentials) and by hand where it has none (revocation, introspection,
//! metadata, JWKS).

pub mod authorize;
pub mod client_auth;
pub mod endpoint;
pub mod error;
pub mod metadata;
pub mod revoke;
pub mod token;

use actix_web::web;

/// Registers the OAuth routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/oauth/authorize", web::get().to(authorize::authorize_get))
        .route(
            "/oauth/authorize",
            web::post().to(authorize::authorize_post),
        )
        .route("/oauth/token", web::post().to(token::token_post))
        .route("/oauth/revoke", web::post().to(revoke::revoke_post))
        .route("/oauth/introspect", web::post().to(revoke::introspect_post))
        .route(
            "/.well-known/oauth-authorization-server",
            web::get().to(metadata::metadata_get),
        )
        .route("/.well-known/jwks.json", web::get().to(metadata::jwks_get));
}
