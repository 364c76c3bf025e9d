//! The OpenAPI 3.1 document, generated from the handlers' annotations and the body types in
//! `views`, served at `/api/v1/openapi.json`, and Swagger UI (vendored, nothing fetched) at
//! `/api/v1/docs`. Its Authorize button takes a bearer token: a session token from
//! Settings → Credentials, or any credential.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use super::views::*;
use super::{
    audit, credentials, invitations, login, members, system_credentials, tenant_access, usage,
    users,
};

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Portcullis API",
        description = "Credentials and identity. Authenticate with `Authorization: Bearer <token>`: an access token, \
                       or any Portcullis credential (API key, `sk-` token). Errors answer \
                       `{\"error\":{\"code\",\"message\",\"status\"}}`."
    ),
    paths(
        users::me_get,
        credentials::pat_post, credentials::pat_list, credentials::pat_delete,
        credentials::api_key_post, credentials::api_key_list, credentials::api_key_delete,
        credentials::personal_token_post, credentials::personal_token_delete,
        login::login_v0_post, login::auth_token_post,
        login::generate_secret_key_put, login::delete_secret_key_delete,
        system_credentials::create_post, system_credentials::list_get, system_credentials::one_get,
        system_credentials::update_put, system_credentials::delete,
        audit::list_get,
        tenant_access::access_get, tenant_access::credentials_get, tenant_access::credential_delete,
        members::members_get, members::member_put, members::member_delete,
        members::invitation_post, members::invitations_get, members::invitation_delete,
        invitations::mine_get, invitations::accept_post, invitations::decline_post,
        usage::credential_usage_get,
    ),
    components(schemas(
        audit::AuditPage, crate::domain::audit::AuditEvent,
        ErrorBody, ErrorDetail, MeResponse, MeData, NewPat, PatView, PatCreated, PatList,
        NewApiKeyBody, ApiKeyPermission, ApiKeyEnvironment, ApiKeyView, ApiKeyCreated, ApiKeyList,
        PersonalTokenCreated,
        LoginResponse, ClientCredentialsBody, SecretKeyLogin, AuthTokenResponse, SecretKeyResponse,
        crate::domain::roles::RoleAssignment, system_credentials::SystemCredentialView,
        system_credentials::SystemCredentialCreated, system_credentials::SystemCredentialUpdated,
        system_credentials::SystemCredentialList, system_credentials::NewSystemCredential,
        system_credentials::SystemCredentialUpdate,
        tenant_access::AccessView, tenant_access::MemberCredentialView, tenant_access::MemberCredentialList,
        members::RoleName, members::MemberView, members::MemberList, members::RoleBody,
        members::NewInvitation, members::InvitationQueued, members::InvitationView,
        members::InvitationList, invitations::MyInvitationView, invitations::MyInvitationList,
        invitations::Joined, crate::domain::usage::Report, crate::domain::usage::Point,
    )),
    modifiers(&SecuritySchemes),
)]
pub struct ApiDoc;

/// The `bearer` and `system_credential` (HTTP Basic) schemes the operations' `security`
/// lists name.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An access token or a Portcullis credential, without the `Bearer ` prefix.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "system_credential",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "A system credential: its client id and secret, each form-urlencoded \
                         (RFC 6749 §2.3.1).",
                    ))
                    .build(),
            ),
        );
    }
}

/// Registers the document and Swagger UI.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/docs", web::get().to(docs_redirect))
        .service(
            SwaggerUi::new("/api/v1/docs/{_:.*}").url("/api/v1/openapi.json", ApiDoc::openapi()),
        );
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((LOCATION, "/api/v1/docs/"))
        .finish()
}
