//! `GET /.well-known/oauth-authorization-server` (RFC 8414), `GET /.well-known/openid-configuration`
//! (OpenID Connect Discovery 1.0 §3) and `GET /.well-known/jwks.json`. The discovery document is
//! the RFC 8414 one plus OpenID's fields, so the two never disagree.

use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpResponse, web};
use serde_json::{Map, Value, json};

use crate::domain::auth_methods::ACR_VALUES;
use crate::domain::jwt::SigningAlg;
use crate::domain::oidc::CLAIMS_SUPPORTED;
use crate::domain::oidc_request::PROMPT_VALUES;
use crate::domain::scope::SCOPES;
use crate::http::error::ApiError;
use crate::state::AppState;

/// The RFC 8414 fields, shared by both documents.
fn server_metadata(iss: &str) -> Map<String, Value> {
    let doc = json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/oauth/authorize"),
        "token_endpoint": format!("{iss}/oauth/token"),
        "revocation_endpoint": format!("{iss}/oauth/revoke"),
        "introspection_endpoint": format!("{iss}/oauth/introspect"),
        "jwks_uri": format!("{iss}/.well-known/jwks.json"),
        "scopes_supported": SCOPES.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
    });
    match doc {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn document(doc: Map<String, Value>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "public, max-age=300"))
        .json(doc)
}

/// `GET /.well-known/oauth-authorization-server`
pub async fn metadata_get(state: web::Data<AppState>) -> HttpResponse {
    document(server_metadata(state.tokens.issuer()))
}

/// `GET /.well-known/openid-configuration`
pub async fn openid_configuration_get(state: web::Data<AppState>) -> HttpResponse {
    let iss = state.tokens.issuer();
    let mut doc = server_metadata(iss);
    doc.extend([
        (
            "userinfo_endpoint".into(),
            json!(format!("{iss}/oauth/userinfo")),
        ),
        // RP-Initiated Logout 1.0 §2.1.
        (
            "end_session_endpoint".into(),
            json!(format!("{iss}/oauth/logout")),
        ),
        ("subject_types_supported".into(), json!(["public"])),
        (
            "id_token_signing_alg_values_supported".into(),
            json!(SigningAlg::ALL),
        ),
        ("claims_supported".into(), json!(CLAIMS_SUPPORTED)),
        ("claims_parameter_supported".into(), json!(false)),
        ("request_parameter_supported".into(), json!(false)),
        // Discovery §3: omitted would mean `true`.
        ("request_uri_parameter_supported".into(), json!(false)),
        ("prompt_values_supported".into(), json!(PROMPT_VALUES)),
        ("acr_values_supported".into(), json!(ACR_VALUES)),
    ]);
    document(doc)
}

/// `GET /.well-known/jwks.json`: every key that may still have live tokens.
pub async fn jwks_get(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let jwks = state.tokens.published_jwks().await?;
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "public, max-age=60"))
        .json(jwks))
}
