//! `POST /oauth/token`: authenticates the client, checks the grant is allowed, runs oxide-auth's
//! flow for the grant, and rewrites its answer into RFC 6749's exact shape (`token_type:
//! "Bearer"`, `error_description`, `invalid_grant` where oxide-auth says `invalid_request`).

use actix_web::http::header::{CACHE_CONTROL, PRAGMA};
use actix_web::{HttpRequest, HttpResponse, Responder, web};
use oxide_auth_actix::{OAuthRequest, OAuthResponse, WebError};
use oxide_auth_async::endpoint::access_token::AccessTokenFlow;
use oxide_auth_async::endpoint::client_credentials::ClientCredentialsFlow;
use oxide_auth_async::endpoint::refresh::RefreshFlow;
use serde::{Deserialize, Serialize};

use super::client_auth::{self, param};
use super::endpoint::{Decision, FlowEndpoint};
use super::error::OAuthError;
use crate::domain::audit::AuditEvent;
use crate::domain::client::GrantType;
use crate::runtime::throttle;
use crate::state::AppState;

/// RFC 6749 §5.1 successful response.
#[derive(Serialize)]
pub struct TokenResponse {
    /// The JWT.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Present for authorization-code and refresh grants.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Granted scopes.
    pub scope: String,
}

impl TokenResponse {
    /// The HTTP response, never cached (RFC 6749 §5.1).
    pub fn into_response(self) -> HttpResponse {
        HttpResponse::Ok()
            .insert_header((CACHE_CONTROL, "no-store"))
            .insert_header((PRAGMA, "no-cache"))
            .json(self)
    }
}

#[derive(Deserialize)]
struct OxideBody {
    access_token: Option<String>,
    refresh_token: Option<String>,
    scope: Option<String>,
    error: Option<String>,
    description: Option<String>,
}

/// `POST /oauth/token`: throttled per source address and client after repeated failures
/// (bad client credentials, bad grants); successful requests never count.
pub async fn token_post(
    http: HttpRequest,
    req: Result<OAuthRequest, WebError>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let presented = req
        .as_ref()
        .ok()
        .and_then(client_auth::presented_id)
        .unwrap_or_default();
    let key = throttle::key(crate::http::meta::client_ip(&http), &presented);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    state
        .throttle
        .check(&key, now)
        .map_err(OAuthError::throttled)?;
    let result = token_inner(&http, req, &state).await;
    if let Err(e) = &result
        && matches!(e.code(), "invalid_client" | "invalid_grant")
    {
        state.throttle.fail(&key, now);
        state.auditor.record(
            AuditEvent::here("token.failure")
                .by("client", &presented)
                .failed()
                .detail(serde_json::json!({"error": e.code()})),
        );
    }
    result
}

async fn token_inner(
    http: &HttpRequest,
    req: Result<OAuthRequest, WebError>,
    state: &AppState,
) -> Result<HttpResponse, OAuthError> {
    let req = req.map_err(|_| {
        OAuthError::bad(
            "invalid_request",
            "Send one Authorization header and a form body.",
        )
    })?;
    if req.body().is_none() {
        return Err(OAuthError::bad(
            "invalid_request",
            "The request body must be application/x-www-form-urlencoded.",
        ));
    }
    let grant_type = param(&req, "grant_type")
        .ok_or_else(|| OAuthError::bad("invalid_request", "grant_type is required."))?;
    if grant_type == TOKEN_EXCHANGE {
        return token_exchange(http, &req, state).await;
    }
    let grant = GrantType::parse(&grant_type).ok_or_else(|| {
        OAuthError::bad(
            "unsupported_grant_type",
            format!("Unsupported grant_type: {grant_type}"),
        )
    })?;
    let (client, _) = client_auth::authenticate(state, &req).await?;
    if !client.allows(grant) || (grant == GrantType::ClientCredentials && client.is_public) {
        return Err(OAuthError::bad(
            "unauthorized_client",
            format!("This client may not use the {grant_type} grant."),
        ));
    }
    let result = match grant {
        GrantType::AuthorizationCode => {
            require(&req, "code")?;
            require(&req, "redirect_uri")?;
            let ep = FlowEndpoint::new(state, client, Decision::Deny);
            let mut flow = AccessTokenFlow::prepare(ep).map_err(flow_error)?;
            flow.allow_credentials_in_body(true);
            flow.execute(req).await
        }
        GrantType::RefreshToken => {
            require(&req, "refresh_token")?;
            let ep = FlowEndpoint::new(state, client, Decision::Deny);
            let refused = ep.refused_flag();
            let result = RefreshFlow::prepare(ep)
                .map_err(flow_error)?
                .execute(req)
                .await;
            if result.is_err() && refused.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(OAuthError::bad(
                    "invalid_grant",
                    "The refresh token was already used; its grant has been revoked.",
                ));
            }
            result
        }
        GrantType::ClientCredentials => {
            // oxide-auth answers a refused scope here with a silent denial (a 500): check first.
            if let Some(raw) = param(&req, "scope") {
                let ok = crate::domain::scope::ScopeSet::parse(&raw)
                    .is_ok_and(|s| client.scopes.contains_all(&s));
                if !ok {
                    return Err(OAuthError::bad(
                        "invalid_scope",
                        "The requested scope is unknown or not allowed for this client.",
                    ));
                }
            }
            let ep = FlowEndpoint::new(state, client, Decision::ClientItself);
            let mut flow = ClientCredentialsFlow::prepare(ep).map_err(flow_error)?;
            flow.allow_credentials_in_body(true);
            flow.execute(req).await
        }
    };
    finish(
        http,
        result.map_err(flow_error)?,
        grant,
        state.tokens.access_ttl(),
    )
}

/// RFC 8693's grant type.
pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// RFC 8693 token exchange: a long-lived credential (API key, `sk-` token, personal token,
/// account secret key) as `subject_token` buys a short-lived access token with at most its
/// permissions. The credential authenticates the request; a client that sends credentials
/// anyway must send valid ones.
async fn token_exchange(
    http: &HttpRequest,
    req: &OAuthRequest,
    state: &AppState,
) -> Result<HttpResponse, OAuthError> {
    if param(req, "client_id").is_some() || req.authorization_header().is_some() {
        client_auth::authenticate(state, req).await?;
    }
    let subject = param(req, "subject_token").filter(|s| !s.is_empty());
    let subject =
        subject.ok_or_else(|| OAuthError::bad("invalid_request", "subject_token is required."))?;
    match param(req, "subject_token_type").as_deref() {
        Some(ACCESS_TOKEN_TYPE) | Some("urn:portcullis:params:oauth:token-type:credential") => {}
        Some(_) => {
            return Err(OAuthError::bad(
                "invalid_request",
                "Unsupported subject_token_type.",
            ));
        }
        None => {
            return Err(OAuthError::bad(
                "invalid_request",
                "subject_token_type is required.",
            ));
        }
    }
    let scope = match param(req, "scope").filter(|s| !s.trim().is_empty()) {
        Some(raw) => Some(
            crate::domain::scope::ScopeSet::parse(&raw)
                .map_err(|_| OAuthError::bad("invalid_scope", "Unknown scope."))?,
        ),
        None => None,
    };
    let ip = crate::http::meta::client_ip(http);
    let outcome = crate::domain::exchange::exchange(
        &state.credentials,
        &state.tokens,
        &subject,
        ip,
        scope.as_ref(),
        None,
        "token_exchange",
    )
    .await;
    let (token, claims) = match outcome {
        Ok(Ok(pair)) => pair,
        Ok(Err(_)) => {
            return Err(OAuthError::bad(
                "invalid_grant",
                "The subject_token is invalid, expired, revoked or not allowed from here.",
            ));
        }
        Err(crate::error::AppError::Validation { .. }) => {
            return Err(OAuthError::bad(
                "invalid_scope",
                "The requested scope exceeds the credential's permissions.",
            ));
        }
        Err(e) => return Err(OAuthError::server(&e)),
    };
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((PRAGMA, "no-cache"))
        .json(serde_json::json!({
            "access_token": token,
            "issued_token_type": ACCESS_TOKEN_TYPE,
            "token_type": "Bearer",
            "expires_in": claims.exp - claims.iat,
            "scope": claims.scope,
        })))
}

fn require(req: &OAuthRequest, key: &str) -> Result<(), OAuthError> {
    match param(req, key) {
        Some(v) if !v.is_empty() => Ok(()),
        _ => Err(OAuthError::bad(
            "invalid_request",
            format!("{key} is required (once)."),
        )),
    }
}

fn flow_error(err: WebError) -> OAuthError {
    OAuthError::server(&crate::error::AppError::internal(anyhow::anyhow!(
        "oauth flow: {err}"
    )))
}

/// Rewrites oxide-auth's answer into the RFC's.
fn finish(
    http: &HttpRequest,
    resp: OAuthResponse,
    grant: GrantType,
    ttl: i64,
) -> Result<HttpResponse, OAuthError> {
    let body = resp.get_body().unwrap_or_default();
    let status = resp.respond_to(http).status();
    let parsed: OxideBody = serde_json::from_str(&body).map_err(|e| {
        OAuthError::server(&crate::error::AppError::internal(anyhow::anyhow!(
            "oxide body: {e}"
        )))
    })?;
    if status.is_success()
        && let Some(access_token) = parsed.access_token
    {
        return Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: ttl,
            refresh_token: parsed.refresh_token,
            // oxide-auth's scope order is arbitrary; answer in canonical (sorted) order.
            scope: crate::domain::scope::ScopeSet::parse(&parsed.scope.unwrap_or_default())
                .map(|s| s.to_string())
                .unwrap_or_default(),
        }
        .into_response());
    }
    if status.as_u16() == 401 {
        return Err(OAuthError::invalid_client(false));
    }
    let error = parsed.error.unwrap_or_default();
    // Required parameters were checked above, so oxide-auth's `invalid_request` here always
    // means a bad code, verifier or refresh token: RFC 6749 §5.2 calls that `invalid_grant`.
    let (code, description): (&'static str, String) = match (error.as_str(), grant) {
        ("invalid_scope", _) => ("invalid_scope", "The requested scope exceeds what was granted.".into()),
        ("unauthorized_client", _) => ("unauthorized_client", "This client may not use this grant.".into()),
        (_, GrantType::AuthorizationCode) => (
            "invalid_grant",
            "The authorization code is invalid, expired, already used, or does not match the redirect_uri or code_verifier.".into(),
        ),
        (_, GrantType::RefreshToken) => ("invalid_grant", "The refresh token is invalid, expired or revoked.".into()),
        (_, GrantType::ClientCredentials) => ("invalid_request", parsed.description.unwrap_or_else(|| "Invalid request.".into())),
    };
    Err(OAuthError::bad(code, description))
}
