//! Browser pages. Each handler extracts, calls one domain function and renders a template.

pub mod account;
pub mod auth;
pub mod credentials;
pub mod settings;

use actix_web::web;

/// Registers the settings pages.
pub fn settings_routes(cfg: &mut web::ServiceConfig) {
    use credentials as c;
    cfg.route("/settings/credentials", web::get().to(c::credentials_get))
        .route(
            "/settings/credentials/api-keys",
            web::post().to(c::api_key_post),
        )
        .route("/settings/credentials/tokens", web::post().to(c::pat_post))
        .route(
            "/settings/credentials/personal-token",
            web::post().to(c::personal_token_post),
        )
        .route(
            "/settings/credentials/secret-key",
            web::post().to(c::secret_key_post),
        )
        .route(
            "/settings/credentials/session-token",
            web::post().to(c::session_token_post),
        )
        .route(
            "/settings/credentials/{kind}/{id}/revoke",
            web::post().to(c::revoke_post),
        )
        .route("/settings/apps", web::get().to(settings::apps_get))
        .route("/settings/apps", web::post().to(settings::apps_post))
        .route(
            "/settings/apps/{id}/rotate-secret",
            web::post().to(settings::rotate_post),
        )
        .route(
            "/settings/authorized-apps",
            web::get().to(settings::authorized_get),
        )
        .route(
            "/settings/authorized-apps/{client_id}/revoke",
            web::post().to(settings::authorized_revoke_post),
        );
}
