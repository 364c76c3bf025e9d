//! Browser pages. Each handler extracts, calls one domain function and renders a template.

pub mod account;
pub mod auth;
pub mod settings;

use actix_web::web;

/// Registers the settings pages.
pub fn settings_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/apps", web::get().to(settings::apps_get))
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
