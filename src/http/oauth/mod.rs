//! OAuth 2.0 endpoints. The authorization endpoint runs oxide-auth's flow over the adapters in
//! `primitives`; the token endpoint's grants are domain operations (`domain::grants`);
//! revocation, introspection, metadata, JWKS and OpenID Connect's UserInfo are written by hand.

pub mod authorize;
pub mod client_auth;
pub mod error;
pub mod logout;
pub mod metadata;
pub mod primitives;
pub mod reply;
pub mod revoke;
pub mod token;
pub mod userinfo;

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
        .route(
            "/.well-known/openid-configuration",
            web::get().to(metadata::openid_configuration_get),
        )
        .route("/oauth/logout", web::get().to(logout::end_session_get))
        .route("/oauth/logout", web::post().to(logout::end_session_post))
        .route(
            "/oauth/logout/confirm",
            web::post().to(logout::end_session_confirm_post),
        )
        .route("/oauth/userinfo", web::get().to(userinfo::userinfo_get))
        .route("/oauth/userinfo", web::post().to(userinfo::userinfo_post))
        .route("/.well-known/jwks.json", web::get().to(metadata::jwks_get));
}
