//! Browser pages. Each handler extracts, calls one domain function and renders a template.

pub mod account;
pub mod account_delete;
pub mod admin;
pub mod admin_apps;
pub mod admin_people;
pub mod admin_users;
pub mod app_details;
pub mod app_settings;
pub mod audit;
pub mod audit_export;
pub mod auth;
pub mod chart;
pub mod credential_edit;
pub mod credential_forms;
pub mod credentials;
pub mod email;
pub mod forgot;
pub mod links;
pub mod member_credentials;
pub mod passkey_signin;
pub mod passkeys;
pub mod password;
pub mod second_factor;
pub mod second_factor_passkey;
pub mod security;
pub mod session_token;
pub mod sessions;
pub mod settings;
pub mod signout;
pub mod tenants;
pub mod usage;

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

/// A form that carries only its CSRF token.
#[derive(Deserialize)]
pub struct EmptyForm {}

/// `303 See Other` to `location`: where a form post goes next.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, location))
        .finish()
}

/// Registers the settings pages.
pub fn settings_routes(cfg: &mut web::ServiceConfig) {
    use credentials as c;
    cfg.route(
        "/settings/security-log",
        web::get().to(audit::security_log_get),
    )
    .route("/admin/audit-log", web::get().to(audit::audit_log_get))
    .route(
        "/admin/audit-log/export",
        web::get().to(audit_export::export_get),
    );
    cfg.route(
        "/settings/active-tenant",
        web::post().to(tenants::switch_post),
    )
    .route("/admin/apps", web::get().to(admin_apps::apps_get))
    .route(
        "/admin/apps/{client_id}/flags",
        web::post().to(admin_apps::flags_post),
    )
    .route("/admin/people", web::get().to(admin_users::people_get))
    .route("/admin/users", web::get().to(admin_users::users_get))
    .route(
        "/admin/users/{user_id}/disable",
        web::post().to(admin_users::disable_post),
    )
    .route(
        "/admin/users/{user_id}/enable",
        web::post().to(admin_users::enable_post),
    )
    .route(
        "/admin/users/{user_id}/sign-out",
        web::post().to(admin_users::sign_out_post),
    )
    .route(
        "/admin/users/{user_id}/admin",
        web::post().to(admin_users::admin_post),
    )
    .route(
        "/admin/users/{user_id}/delete",
        web::get().to(admin_users::delete_get),
    )
    .route(
        "/admin/users/{user_id}/delete",
        web::post().to(admin_users::delete_post),
    )
    .route("/account/delete", web::get().to(account_delete::delete_get))
    .route(
        "/account/delete",
        web::post().to(account_delete::delete_post),
    )
    .route(
        "/admin/users/{user_id}/email-verified",
        web::post().to(admin_people::email_verified_post),
    )
    .route("/admin/tenants", web::get().to(tenants::tenants_get))
    .route(
        "/admin/tenants",
        web::post().to(tenants::tenant_create_post),
    )
    .route("/admin/tenants/{id}", web::get().to(tenants::tenant_get))
    .route(
        "/admin/tenants/{id}/invitations",
        web::post().to(tenants::invite_post),
    )
    .route(
        "/admin/tenants/{id}/invitations/{invitation_id}/revoke",
        web::post().to(tenants::invitation_revoke_post),
    )
    .route(
        "/admin/tenants/{id}/members/{user_id}/role",
        web::post().to(tenants::member_role_post),
    )
    .route(
        "/admin/tenants/{id}/members/{user_id}/remove",
        web::post().to(tenants::member_remove_post),
    )
    .route(
        "/account/invitations/{id}/accept",
        web::post().to(account::invitation_accept_post),
    )
    .route(
        "/account/invitations/{id}/decline",
        web::post().to(account::invitation_decline_post),
    )
    .route(
        "/admin/system-credentials",
        web::get().to(admin::system_get),
    )
    .route(
        "/admin/system-credentials",
        web::post().to(admin::system_create_post),
    )
    .route(
        "/admin/system-credentials/{id}/update",
        web::post().to(admin::system_update_post),
    )
    .route(
        "/admin/system-credentials/{id}/delete",
        web::post().to(admin::system_delete_post),
    )
    .route(
        "/admin/system-credentials/{id}/rotate-secret",
        web::post().to(admin::system_rotate_post),
    )
    .route(
        "/admin/credentials",
        web::get().to(member_credentials::list_get),
    )
    .route(
        "/admin/credentials/{id}/revoke",
        web::post().to(member_credentials::revoke_post),
    )
    .route("/settings/credentials", web::get().to(c::credentials_get))
    .route(
        "/settings/credentials/{kind}/{id}/rename",
        web::post().to(credential_edit::rename_post),
    )
    .route(
        "/settings/credentials/api_key/{id}/roll",
        web::post().to(credential_edit::roll_post),
    )
    .route(
        crate::http::reveal::PATH,
        web::get().to(crate::http::reveal::reveal_get),
    )
    .route(
        "/settings/credentials/{id}/usage",
        web::get().to(usage::credential_usage_get),
    )
    .route(
        "/settings/credentials/api-keys",
        web::post().to(credential_forms::api_key_post),
    )
    .route(
        "/settings/credentials/tokens",
        web::post().to(credential_forms::pat_post),
    )
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
        web::post().to(session_token::session_token_post),
    )
    .route(
        "/settings/credentials/{kind}/{id}/revoke",
        web::post().to(c::revoke_post),
    )
    .route("/settings/apps", web::get().to(settings::apps_get))
    .route(
        "/settings/apps/{client_id}/usage",
        web::get().to(usage::app_usage_get),
    )
    .route("/settings/apps", web::post().to(settings::apps_post))
    .route(
        "/settings/apps/{id}/rotate-secret",
        web::post().to(app_details::rotate_post),
    )
    .route(
        "/settings/apps/{id}/edit",
        web::post().to(app_details::edit_post),
    )
    .route(
        "/settings/apps/{id}/delete",
        web::post().to(app_details::delete_post),
    )
    .route("/settings/apps/{id}", web::get().to(app_details::app_get))
    .route(
        "/settings/apps/{id}",
        web::post().to(app_settings::app_settings_post),
    )
    .route(
        "/settings/authorized-apps",
        web::get().to(settings::authorized_get),
    )
    .route(
        "/settings/authorized-apps/{client_id}/revoke",
        web::post().to(settings::authorized_revoke_post),
    )
    .route("/settings/sessions", web::get().to(sessions::sessions_get))
    .route(
        "/settings/sessions/{sid}/end",
        web::post().to(sessions::session_end_post),
    )
    .route("/settings/email", web::get().to(email::email_get))
    .route("/settings/email", web::post().to(email::email_post))
    .route("/settings/email/resend", web::post().to(email::resend_post))
    .route("/settings/security", web::get().to(security::security_get))
    .route(
        "/settings/security/totp/confirm",
        web::post().to(security::totp_confirm_post),
    )
    .route(
        "/settings/security/totp/remove",
        web::post().to(security::totp_remove_post),
    )
    .route(
        "/settings/security/recovery-codes",
        web::post().to(security::recovery_codes_post),
    )
    .route(
        "/signin/second-factor",
        web::get().to(second_factor::second_factor_get),
    )
    .route(
        "/signin/second-factor",
        web::post().to(second_factor::second_factor_post),
    )
    .route(
        "/admin/second-factor-required",
        web::post().to(admin_people::second_factor_required_post),
    )
    .route(
        "/admin/users/{user_id}/reset-factors",
        web::post().to(admin_people::reset_factors_post),
    )
    .route("/settings/passkeys", web::get().to(passkeys::passkeys_get))
    .route(
        "/settings/passkeys/register/start",
        web::post().to(passkeys::register_start_post),
    )
    .route(
        "/settings/passkeys/register/finish",
        web::post().to(passkeys::register_finish_post),
    )
    .route(
        "/settings/passkeys/{id}/rename",
        web::post().to(passkeys::rename_post),
    )
    .route(
        "/settings/passkeys/{id}/remove",
        web::post().to(passkeys::remove_post),
    )
    .route("/settings/password", web::get().to(password::password_get))
    .route(
        "/settings/password",
        web::post().to(password::password_post),
    );
}
