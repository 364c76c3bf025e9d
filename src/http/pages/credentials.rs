//! Settings → Credentials: everything a person holds (API keys, personal access tokens, the
//! personal token, the account secret key, authorized and developer apps) with creation forms,
//! revoke buttons and a one-time reveal page (the session token's form is in `session_token`).

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::auth::html;
use super::credential_forms::Typed;
use super::{EmptyForm, see_other};
use crate::domain::client::{self, Client};
use crate::domain::consent;
use crate::domain::credentials::{Credential, CredentialKind, format_time};
use crate::domain::principal::Principal;
use crate::domain::tenant;
use crate::error::AppError;
use crate::http::csrf::CsrfForm;
use crate::http::error::PageError;
use crate::http::layout::flash;
use crate::http::moment::Moment;
use crate::http::reveal::{Shown, hold};
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
    created: Moment,
    last_used: Option<Moment>,
    last_used_ip: String,
    expires: Option<Moment>,
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
    /// What was typed into a refused creation form, with each bad field.
    typed: Typed,
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
        created: Moment::new(c.created_at, now),
        last_used: c.last_used_at.map(|at| Moment::new(at, now)),
        last_used_ip: c.last_used_ip.clone().unwrap_or_default(),
        expires: expiry.map(|e| Moment::new(e, now)),
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
    typed: Typed,
) -> Result<CredentialsPage, PageError> {
    let user = &current.user;
    let tenant = tenant::active(&state.ctx, user).await?;
    // Show last-use times that are still in memory.
    state.credentials.flush_last_used().await?;
    let now = state.credentials.clock().now();
    // API keys and tokens: the active tenant's, as the API lists them (`/api/v1/active/…`).
    let me = Principal::session(user);
    let in_tenant = |kind| state.credentials.list_own(&me, "active", kind);
    let api_keys = rows(state, &in_tenant(CredentialKind::ApiKey).await?, now).await;
    let pats = rows(
        state,
        &in_tenant(CredentialKind::PersonalAccessToken).await?,
        now,
    )
    .await;
    // One personal token and one secret key per account, whatever the tenant.
    let list = |kind| state.credentials.list(&user.id, None, kind);
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
        typed,
    })
}

/// `GET /settings/credentials`
pub async fn credentials_get(
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let p = page(&state, current, None, Typed::default()).await?;
    Ok(html(StatusCode::OK, &p)?)
}

/// Holds a new credential's secret for the one-time reveal (see `http::reveal`).
pub(super) fn reveal(
    session: &Session,
    state: &AppState,
    current: &CurrentUser,
    title: &str,
    secret: &str,
    note: &str,
) -> Result<HttpResponse, PageError> {
    let shown = Shown::secret(
        title,
        secret,
        note,
        "/settings/credentials",
        "Done: back to credentials",
    );
    hold(session, state, &current.user, &shown)
}

pub(super) async fn invalid(
    state: &AppState,
    current: CurrentUser,
    err: AppError,
) -> Result<HttpResponse, PageError> {
    invalid_with(state, current, err, Typed::default()).await
}

/// The page again after a refusal, with what was typed and each bad field marked.
pub(super) async fn invalid_with(
    state: &AppState,
    current: CurrentUser,
    err: AppError,
    mut typed: Typed,
) -> Result<HttpResponse, PageError> {
    let status = match &err {
        AppError::Validation { .. } | AppError::Invalid(_) | AppError::Conflict(_) => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        _ => return Err(err.into()),
    };
    typed.errors = err
        .fields()
        .into_iter()
        .map(|(f, m)| (f, m.to_owned()))
        .collect();
    let p = page(state, current, Some(err.to_string()), typed).await?;
    Ok(html(status, &p)?)
}

/// `POST /settings/credentials/personal-token`: generate or regenerate.
pub async fn personal_token_post(
    _: CsrfForm<EmptyForm>,
    current: CurrentUser,
    session: Session,
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
        &session,
        &state,
        &current,
        "Personal token",
        issued.secret.expose(),
        &note,
    )
}

/// `POST /settings/credentials/secret-key`: generate (once).
pub async fn secret_key_post(
    _: CsrfForm<EmptyForm>,
    current: CurrentUser,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    match state
        .credentials
        .generate_secret_key(&Principal::session(&current.user), "active")
        .await
    {
        Ok(issued) => reveal(
            &session,
            &state,
            &current,
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
    session: Session,
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
    flash(&session, format!("{} revoked.", kind.label()))?;
    Ok(see_other("/settings/credentials"))
}
