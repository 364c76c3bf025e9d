//! The REST API (`/v1`, `/api`, and the seed-shaped `/auth`, `/user` routes): JSON in, JSON
//! out, errors in the house shape `{"error":{"code","message","status"}}`.

pub mod audit;
pub mod caller;
pub mod credentials;
pub mod invitations;
pub mod login;
pub mod members;
pub mod openapi;
pub mod system_credentials;
pub mod tenant_access;
pub mod usage;
pub mod users;
pub mod views;

use actix_web::web;

/// Registers the API routes. Literal paths come first: actix tries routes in order, and every
/// pattern with a `{segment}` passed on the way costs a regex match.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use credentials as c;
    cfg.configure(openapi::routes)
        .route("/v1/users/me", web::get().to(users::me_get))
        .route("/api/v1/audit-events", web::get().to(audit::list_get))
        .route("/api/v1/invitations", web::get().to(invitations::mine_get))
        .route(
            "/api/v1/credentials/{id}/usage",
            web::get().to(usage::credential_usage_get),
        )
        .route("/api/v0/login", web::post().to(login::login_v0_post))
        .route("/auth/token", web::post().to(login::auth_token_post))
        .route("/api/v1/{tenant_id}/tokens/", web::post().to(c::pat_post))
        .route("/api/v1/{tenant_id}/tokens", web::post().to(c::pat_post))
        .route("/api/v1/{tenant_id}/tokens/", web::get().to(c::pat_list))
        .route("/api/v1/{tenant_id}/tokens", web::get().to(c::pat_list))
        .route(
            "/api/v1/{tenant_id}/tokens/{token_id}",
            web::delete().to(c::pat_delete),
        )
        .route(
            "/api/v1/{tenant_id}/api-keys",
            web::post().to(c::api_key_post),
        )
        .route(
            "/api/v1/{tenant_id}/api-keys",
            web::get().to(c::api_key_list),
        )
        .route(
            "/api/v1/{tenant_id}/api-keys/{id}",
            web::delete().to(c::api_key_delete),
        )
        .route(
            "/api/v1/{tenant_id}/personal-token",
            web::post().to(c::personal_token_post),
        )
        .route(
            "/api/v1/{tenant_id}/access",
            web::get().to(tenant_access::access_get),
        )
        .route(
            "/api/v1/{tenant_id}/credentials",
            web::get().to(tenant_access::credentials_get),
        )
        .route(
            "/api/v1/{tenant_id}/credentials/{id}",
            web::delete().to(tenant_access::credential_delete),
        )
        .route(
            "/api/v1/{tenant_id}/personal-token",
            web::delete().to(c::personal_token_delete),
        )
        .route(
            "/api/v1/auth-management/clients",
            web::post().to(system_credentials::create_post),
        )
        .route(
            "/api/v1/auth-management/clients",
            web::get().to(system_credentials::list_get),
        )
        .route(
            "/api/v1/auth-management/clients/{client_id}",
            web::get().to(system_credentials::one_get),
        )
        .route(
            "/api/v1/auth-management/clients/{client_id}",
            web::put().to(system_credentials::update_put),
        )
        .route(
            "/api/v1/auth-management/clients/{client_id}",
            web::delete().to(system_credentials::delete),
        )
        .route(
            "/api/v1/invitations/{invitation_id}/accept",
            web::post().to(invitations::accept_post),
        )
        .route(
            "/api/v1/invitations/{invitation_id}/decline",
            web::post().to(invitations::decline_post),
        )
        .route(
            "/api/v1/{tenant_id}/members",
            web::get().to(members::members_get),
        )
        .route(
            "/api/v1/{tenant_id}/members/{user_id}",
            web::put().to(members::member_put),
        )
        .route(
            "/api/v1/{tenant_id}/members/{user_id}",
            web::delete().to(members::member_delete),
        )
        .route(
            "/api/v1/{tenant_id}/invitations",
            web::post().to(members::invitation_post),
        )
        .route(
            "/api/v1/{tenant_id}/invitations",
            web::get().to(members::invitations_get),
        )
        .route(
            "/api/v1/{tenant_id}/invitations/{invitation_id}",
            web::delete().to(members::invitation_delete),
        )
        .route(
            "/user/generate_secret_key",
            web::put().to(login::generate_secret_key_put),
        )
        .route(
            "/user/delete_secret_key",
            web::delete().to(login::delete_secret_key_delete),
        );
}
