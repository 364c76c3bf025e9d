//! HTTP: actix routing, extractors and responders. Handlers are thin: extract, call the domain,
//! render. Nothing here talks to the database directly.

pub mod api;
pub mod assets;
pub mod csrf;
pub mod enrol_gate;
pub mod error;
pub mod health;
pub mod layout;
pub mod meta;
pub mod metrics;
pub mod moment;
pub mod nav;
pub mod oauth;
pub mod outage;
pub mod pages;
pub mod request_id;
pub mod reveal;
pub mod root_span;
pub mod security_headers;
pub mod session;
pub mod usage_count;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

/// Registers every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use pages::{account, auth, email, forgot};
    cfg.route("/healthz", web::get().to(health::healthz_get))
        .route("/livez", web::get().to(health::livez_get))
        .route("/", web::get().to(account::home_get))
        .route("/signin", web::get().to(auth::signin_get))
        .route("/signin", web::post().to(auth::signin_post))
        .route(
            "/signin/passkey/start",
            web::post().to(pages::passkey_signin::start_post),
        )
        .route(
            "/signin/passkey/finish",
            web::post().to(pages::passkey_signin::finish_post),
        )
        .route(
            "/signin/second-factor/passkey/start",
            web::post().to(pages::second_factor_passkey::start_post),
        )
        .route(
            "/signin/second-factor/passkey/finish",
            web::post().to(pages::second_factor_passkey::finish_post),
        )
        .route("/signup", web::get().to(auth::signup_get))
        .route("/signup", web::post().to(auth::signup_post))
        .route("/signout", web::post().to(auth::signout_post))
        .route("/signout", web::get().to(pages::signout::signout_get))
        .route("/forgot-password", web::get().to(forgot::forgot_get))
        .route("/forgot-password", web::post().to(forgot::forgot_post))
        .route("/reset-password", web::get().to(forgot::reset_get))
        .route("/reset-password", web::post().to(forgot::reset_post))
        .route("/verify-email", web::get().to(email::verify_get))
        .route("/verify-email", web::post().to(email::verify_post))
        .route("/account", web::get().to(account::account_get))
        .route(
            "/account/sign-out-everywhere",
            web::post().to(account::sign_out_everywhere_post),
        )
        .route(
            "/account/session-tokens/{jti}/revoke",
            web::post().to(account::session_token_revoke_post),
        )
        .configure(oauth::routes)
        .configure(api::routes)
        .configure(pages::settings_routes)
        .route("/static/{file}", web::get().to(assets::static_get));
}

/// Any unknown path: the friendly 404 page.
pub async fn not_found() -> HttpResponse {
    error::error_page(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is nothing at this address.",
    )
}
