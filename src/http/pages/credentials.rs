//! Settings → Credentials: everything a person holds (API keys, personal access tokens, the
//! personal token, the account secret key, authorized and developer apps) with creation forms,
//! revoke buttons and a one-time reveal page (the session token's form is in `session_token`).

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue, LOCATION};
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::EmptyForm;
use super::auth::html;
use crate::domain::client::{self, Client};
use crate::domain::consent;
use crate::domain::credentials::{Credential, CredentialKind, NewApiKey, format_time};
use crate::domain::principal::Principal;
use crate::domain::tenant;
use crate::error::AppError;
use crate::http::csrf::CsrfForm;
use crate::http::error::PageError;
use crate::http::session::{CurrentUser, Layout};
use crate::runtime::usage::Subject;
use crate::state::AppState;

/// One credential as a table row.
pub struct Row {
    id: String,
    kind: &'static str,
    name: String,
    prefix: String,
    detail: String,
    created: String,
    last_used: String,
    expires: String,
    expires_soon: bool,
    usage: String,
    /// Requests per day over 30 days, as an inline SVG sparkline.
    spark: String,
}

/// `templates/credentials.html`.
#[derive(Template)]
#[template(path = "credentials.html")]
pub struct CredentialsPage {
    layout: Layout,
    tenant_name: String,
    api_keys: Vec<Row>,
    pats: Vec<Row>,
    personal_token: Option<Row>,
    secret_key: Option<Row>,
    authorized: Vec<(String, String)>,
    apps: Vec<Client>,
    error: Option<String>,
}

/// `templates/credential_secret.html`: the one-time reveal.
#[derive(Template)]
#[template(path = "credential_secret.html")]
pub struct RevealPage {
    layout: Layout,
    title: String,
    secret: String,
    note: String,
}

pub(super) fn when(at: Option<i64>) -> String {
    at.map(|t| format_time(t).replace('T', " ").replace('Z', " UTC"))
        .unwrap_or_else(|| "never".into())
}

/// Rows for `creds`, each with its requests this minute (on every server when the rate limit is
/// shared).
async fn rows(state: &AppState, creds: &[Credential], now: i64) -> Vec<Row> {
    let ids: Vec<&str> = creds.iter().map(|c| c.id.as_str()).collect();
    let usage = state.rate_limits.recent(&ids, now).await;
    // A chart that cannot be read is left out rather than failing the page.
    let daily = crate::domain::usage::daily_requests(&state.ctx, Subject::Credential, &ids)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not read credential usage");
            Default::default()
        });
    creds
        .iter()
        .zip(usage)
        .map(|(c, usage)| {
            let mut r = row(c, now, usage);
            r.spark = daily
                .get(&c.id)
                .map(|d| super::chart::sparkline(d))
                .unwrap_or_default();
            r
        })
        .collect()
}

fn row(c: &Credential, now: i64, (count, limit): (u32, u32)) -> Row {
    let expiry = c.effective_expiry(None);
    let detail = match c.kind {
        CredentialKind::ApiKey => {
            let mut d = format!(
                "{} · {}",
                c.permissions,
                c.environment.map_or("live", |e| e.as_str())
            );
            if !c.allowed_ips.is_empty() {
                let ips: Vec<String> = c.allowed_ips.iter().map(ToString::to_string).collect();
                d.push_str(&format!(" · from {}", ips.join(", ")));
            }
            d
        }
        _ => "acts as you".into(),
    };
    Row {
        id: c.id.clone(),
        kind: c.kind.as_str(),
        name: c.name.clone(),
        prefix: format!("{}…", c.prefix),
        detail,
        created: when(Some(c.created_at)),
        last_used: match (&c.last_used_at, &c.last_used_ip) {
            (Some(at), Some(ip)) if !ip.is_empty() => format!("{} from {ip}", when(Some(*at))),
            (at, _) => when(*at),
        },
        expires: expiry.map_or_else(|| "no expiry".into(), |e| when(Some(e))),
        expires_soon: expiry.is_some_and(|e| e - now < 7 * 86_400),
        usage: format!(
            "{count} request(s) this minute, {}% of the {limit}/min limit",
            count.saturating_mul(100) / limit.max(1)
        ),
        spark: String::new(),
    }
}

async fn page(
    state: &AppState,
    current: CurrentUser,
    error: Option<String>,
) -> Result<CredentialsPage, PageError> {
    let user = &current.user;
    let tenant = tenant::active(&state.ctx, user).await?;
    // Show last-use times that are still in memory.
    state.credentials.flush_last_used().await?;
    let now = state.credentials.clock().now();
    let list = |kind| state.credentials.list(&user.id, None, kind);
    let api_keys = rows(state, &list(CredentialKind::ApiKey).await?, now).await;
    let pats = rows(
        state,
        &list(CredentialKind::PersonalAccessToken).await?,
        now,
    )
    .await;
    // One of each is shown.
    let mut personal_token = list(CredentialKind::PersonalToken).await?;
    personal_token.truncate(1);
    let personal_token = rows(state, &personal_token, now).await.pop();
    let mut secret_key = list(CredentialKind::SecretKey).await?;
    secret_key.truncate(1);
    let secret_key = rows(state, &secret_key, now).await.pop();
    let authorized = consent::list_with_clients(&state.ctx, &user.id)
        .await?
        .into_iter()
        .map(|(c, cl)| {
            (
                cl.map_or_else(|| c.client_id.clone(), |cl| cl.name),
                c.scopes.to_string(),
            )
        })
        .collect();
    let apps = client::list_visible(&state.ctx, user)
        .await?
        .into_iter()
        .filter(|c| c.owner_id.as_deref() == Some(user.id.as_str()))
        .collect();
    Ok(CredentialsPage {
        layout: current.layout,
        tenant_name: tenant.name,
        api_keys,
        pats,
        personal_token,
        secret_key,
        authorized,
        apps,
        error,
    })
}

/// `GET /settings/credentials`
pub async fn credentials_get(
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    Ok(html(StatusCode::OK, &page(&state, current, None).await?)?)
}

pub(super) fn reveal(
    layout: Layout,
    title: &str,
    secret: &str,
    note: &str,
) -> Result<HttpResponse, PageError> {
    let page = RevealPage {
        layout,
        title: title.into(),
        secret: secret.into(),
        note: note.into(),
    };
    let mut res = html(StatusCode::CREATED, &page)?;
    // The page shows a secret: no cache may keep it.
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

pub(super) async fn invalid(
    state: &AppState,
    current: CurrentUser,
    err: AppError,
) -> Result<HttpResponse, PageError> {
    match err {
        AppError::Validation { message, .. } | AppError::Conflict(message) => {
            let p = page(state, current, Some(message)).await?;
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &p)?)
        }
        AppError::Forbidden(message) => {
            let p = page(state, current, Some(message)).await?;
            Ok(html(StatusCode::FORBIDDEN, &p)?)
        }
        other => Err(other.into()),
    }
}

/// Form of the API-key creation.
#[derive(Deserialize)]
pub struct ApiKeyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    permission: Vec<String>,
    #[serde(default)]
    environment: String,
    #[serde(default)]
    expires_on: String,
    #[serde(default)]
    allowed_ips: String,
}

/// A date from an `<input type=date>` means the end of that day, UTC.
fn end_of_day(date: &str) -> Option<String> {
    let d = date.trim();
    (!d.is_empty()).then(|| {
        if d.contains('T') {
            d.to_owned()
        } else {
            format!("{d}T23:59:59Z")
        }
    })
}

/// `POST /settings/credentials/api-keys`
pub async fn api_key_post(
    CsrfForm(f): CsrfForm<ApiKeyForm>,
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let new = NewApiKey {
        name: f.name,
        permissions: f.permission,
        environment: Some(f.environment),
        expires_at: end_of_day(&f.expires_on),
        allowed_ips: Some(
            f.allowed_ips
                .split([',', '\n', ' '])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
    };
    match state
        .credentials
        .create_api_key(&Principal::session(&current.user), "active", new)
        .await
    {
        Ok(issued) => reveal(
            current.layout,
            &format!("API key “{}”", issued.credential.name),
            issued.secret.expose(),
            "Use it as `Authorization: Bearer <key>`.",
        ),
        Err(e) => invalid(&state, current, e).await,
    }
}

/// Form of the personal-access-token creation.
#[derive(Deserialize)]
pub struct PatForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    expires_on: String,
}

/// `POST /settings/credentials/tokens`
pub async fn pat_post(
    CsrfForm(f): CsrfForm<PatForm>,
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let expiry = end_of_day(&f.expires_on).unwrap_or_default();
    match state
        .credentials
        .create_pat(
            &Principal::session(&current.user),
            "active",
            &f.name,
            &expiry,
        )
        .await
    {
        Ok(issued) => reveal(
            current.layout,
            &format!("Personal access token “{}”", issued.credential.name),
            issued.secret.expose(),
            "It acts as you until its expiry date.",
        ),
        Err(e) => invalid(&state, current, e).await,
    }
}

/// `POST /settings/credentials/personal-token`: generate or regenerate.
pub async fn personal_token_post(
    _: CsrfForm<EmptyForm>,
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let issued = state
        .credentials
        .regenerate_personal_token(&Principal::session(&current.user), "active")
        .await?;
    let note = format!(
        "Exchange it at POST /api/v0/login. It expires 30 days after its last use, and at the latest on {}. Any previous personal token no longer works.",
        when(Some(
            issued.credential.created_at + crate::domain::credentials::PERSONAL_TOKEN_MAX
        ))
    );
    reveal(
        current.layout,
        "Personal token",
        issued.secret.expose(),
        &note,
    )
}

/// `POST /settings/credentials/secret-key`: generate (once).
pub async fn secret_key_post(
    _: CsrfForm<EmptyForm>,
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    match state
        .credentials
        .generate_secret_key(&Principal::session(&current.user), "active")
        .await
    {
        Ok(issued) => reveal(
            current.layout,
            "Account secret key",
            issued.secret.expose(),
            "It never expires. Exchange it with your email at POST /auth/token.",
        ),
        Err(e) => invalid(&state, current, e).await,
    }
}

/// `POST /settings/credentials/{kind}/{id}/revoke`
pub async fn revoke_post(
    _: CsrfForm<EmptyForm>,
    path: web::Path<(String, String)>,
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let (kind, id) = path.into_inner();
    let kind = CredentialKind::parse(&kind).ok_or(AppError::NotFound("Credential"))?;
    state
        .credentials
        .revoke_own(
            &Principal::session(&current.user),
            "active",
            kind,
            Some(&id),
        )
        .await?;
    tracing::info!(credential_id = ?id, user_id = %current.user.id, kind = kind.as_str(), "credential revoked");
    Ok(HttpResponse::SeeOther()
        .insert_header((LOCATION, "/settings/credentials"))
        .finish())
}
