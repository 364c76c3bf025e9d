//! Request and response bodies of the REST API: the types handlers serialize, from which the
//! OpenAPI document's schemas are generated, so the two cannot drift apart.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::credentials::{Credential, format_time};

/// The house error shape.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Details of an error.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable code, e.g. `authentication_failed`, `validation_failed`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// The HTTP status.
    pub status: u16,
    /// For `validation_failed`: each bad field and what is wrong with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<std::collections::BTreeMap<String, String>>,
    /// The request id, also in the `X-Request-Id` header and the server log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// `GET /v1/users/me`.
#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    /// The account.
    pub data: MeData,
}

/// An account.
#[derive(Serialize, ToSchema)]
pub struct MeData {
    /// `usr_…`.
    pub id: String,
    /// Email address.
    pub email: String,
    /// Display name.
    pub name: String,
}

/// Body of `POST /api/v1/{tenant_id}/tokens/`.
#[derive(Deserialize, ToSchema)]
pub struct NewPat {
    /// 1 to 100 characters, not counting surrounding spaces.
    #[serde(default)]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 100, example = "deploy-bot")]
    pub name: Option<String>,
    /// ISO-8601 date and time in the future.
    #[serde(default)]
    #[schema(value_type = String, required = true, format = DateTime, example = "2030-12-31T23:59:59Z")]
    pub expiry_date: Option<String>,
}

/// A personal access token as listed (never its secret).
#[derive(Serialize, ToSchema)]
pub struct PatView {
    /// Token id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Expiry, RFC 3339.
    pub expiry_date: Option<String>,
}

impl From<&Credential> for PatView {
    fn from(c: &Credential) -> Self {
        Self {
            id: c.id.clone(),
            name: c.name.clone(),
            expiry_date: c.expires_at.map(format_time),
        }
    }
}

/// A new personal access token: the only time `token` is shown.
#[derive(Serialize, ToSchema)]
pub struct PatCreated {
    /// Token id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Expiry, RFC 3339.
    pub expiry_date: Option<String>,
    /// The `sk-` secret.
    pub token: String,
}

/// A page of personal access tokens.
#[derive(Serialize, ToSchema)]
pub struct PatList {
    /// Newest first.
    pub data: Vec<PatView>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// Body of `POST /api/v1/{tenant_id}/api-keys`.
#[derive(Deserialize, ToSchema)]
pub struct NewApiKeyBody {
    /// 1 to 100 characters, not counting surrounding spaces, without control characters.
    #[serde(default)]
    #[schema(
        required = true,
        min_length = 1,
        max_length = 100,
        example = "Production"
    )]
    pub name: String,
    /// Among `read`, `write`, `delete`, `admin`; at least one.
    #[serde(default)]
    #[schema(value_type = Vec<ApiKeyPermission>, required = true, min_items = 1)]
    pub permissions: Vec<String>,
    /// `live` (default) or `test`.
    #[serde(default)]
    #[schema(value_type = Option<ApiKeyEnvironment>)]
    pub environment: Option<String>,
    /// Optional ISO-8601 expiry in the future.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime, example = "2030-12-31T23:59:59Z")]
    pub expires_at: Option<String>,
    /// Optional addresses or CIDR ranges (IPv4, IPv6) the key may be used from.
    #[serde(default)]
    #[schema(example = json!(["203.0.113.0/24", "2001:db8::1"]))]
    pub allowed_ips: Option<Vec<String>>,
}

/// A permission an API key carries.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ApiKeyPermission {
    /// Read data.
    Read,
    /// Create and change data.
    Write,
    /// Delete data.
    Delete,
    /// Manage the account's credentials.
    Admin,
}

/// The mode of an API key.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ApiKeyEnvironment {
    /// `ck_live_` keys.
    Live,
    /// `ck_test_` keys; their tokens carry `env: test`.
    Test,
}

/// An API key as listed (never the key).
#[derive(Serialize, ToSchema)]
pub struct ApiKeyView {
    /// Key id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Public prefix, e.g. `ck_live_AbCd`.
    pub prefix: String,
    /// Permissions.
    pub permissions: Vec<String>,
    /// `live` or `test`.
    pub environment: Option<String>,
    /// Expiry, RFC 3339.
    pub expires_at: Option<String>,
    /// Allowed networks.
    pub allowed_ips: Vec<String>,
    /// Creation time, RFC 3339.
    pub created_at: String,
    /// Last use, RFC 3339.
    pub last_used_at: Option<String>,
    /// Address of the last use.
    pub last_used_ip: Option<String>,
}

impl From<&Credential> for ApiKeyView {
    fn from(c: &Credential) -> Self {
        Self {
            id: c.id.clone(),
            name: c.name.clone(),
            prefix: c.prefix.clone(),
            permissions: c.permissions.iter().map(str::to_owned).collect(),
            environment: c.environment.map(|e| e.as_str().to_owned()),
            expires_at: c.expires_at.map(format_time),
            allowed_ips: c.allowed_ips.iter().map(ToString::to_string).collect(),
            created_at: format_time(c.created_at),
            last_used_at: c.last_used_at.map(format_time),
            last_used_ip: c.last_used_ip.clone(),
        }
    }
}

/// A new API key: the only time `key` is shown.
#[derive(Serialize, ToSchema)]
pub struct ApiKeyCreated {
    /// The key's description.
    #[serde(flatten)]
    pub view: ApiKeyView,
    /// The `ck_live_` / `ck_test_` secret.
    pub key: String,
}

/// A page of API keys.
#[derive(Serialize, ToSchema)]
pub struct ApiKeyList {
    /// Newest first.
    pub data: Vec<ApiKeyView>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// `POST /api/v1/{tenant_id}/personal-token`.
#[derive(Serialize, ToSchema)]
pub struct PersonalTokenCreated {
    /// The `pt_` secret, shown once.
    pub token: String,
    /// When it expires as of now (30 days after last use, at most 90 after creation).
    pub expires_at: Option<String>,
}

/// A short-lived access token (`/api/v0/login`).
#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// JWT.
    pub access_token: String,
    /// `Bearer`.
    pub token_type: String,
    /// Seconds.
    pub expires_in: i64,
}

/// Body of `POST /auth/token`.
#[derive(Deserialize, ToSchema)]
pub struct SecretKeyLogin {
    /// The account's email.
    #[serde(default)]
    pub email: String,
    /// The account secret key (`usk_…`).
    #[serde(default, rename = "secretKey")]
    #[schema(value_type = Option<String>)]
    pub secret_key: Option<crate::secret::CredentialSecret>,
}

/// `POST /auth/token`: a 7-day bearer token.
#[derive(Serialize, ToSchema)]
pub struct AuthTokenResponse {
    /// JWT.
    pub token: String,
}

/// `PUT /user/generate_secret_key`.
#[derive(Serialize, ToSchema)]
pub struct SecretKeyResponse {
    /// The `usk_` secret, shown once.
    #[serde(rename = "secretKey")]
    pub secret_key: String,
}

/// Body of `POST /api/v0/login` with system credentials.
#[derive(Deserialize, ToSchema)]
pub struct ClientCredentialsBody {
    /// `client_credentials`.
    #[serde(default)]
    pub grant_type: Option<String>,
}
