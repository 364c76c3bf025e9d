//! Settings → Developer apps (register OAuth clients; each app's own page is `app_details`) and
//! Settings → Authorized apps (withdraw consent).

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::EmptyForm;
use super::auth::html;
use super::chart;
use crate::domain::client::{self, Client, GrantType, NewClient};
use crate::domain::consent;
use crate::domain::context::Actor;
use crate::domain::scope::{self, SCOPES};
use crate::domain::usage;
use crate::error::AppError;
use crate::http::csrf::CsrfForm;
use crate::http::error::PageError;
use crate::http::reveal::{Fact, Shown, hold};
use crate::http::session::{CurrentUser, Layout};
use crate::runtime::usage::Subject;
use crate::state::AppState;

/// A client as the pages show it.
pub struct AppRow {
    client: Client,
    created: String,
    /// Requests made with its tokens per day over 30 days, as an inline SVG sparkline.
    spark: String,
}

/// `templates/apps.html`.
#[derive(Template)]
#[template(path = "apps.html")]
pub struct AppsPage {
    layout: Layout,
    apps: Vec<AppRow>,
    scopes: &'static [(&'static str, &'static str)],
    error: Option<String>,
    form: AppForm,
}

/// One authorized app.
pub struct AuthorizedRow {
    client_id: String,
    name: String,
    scopes: Vec<(&'static str, &'static str)>,
    granted: String,
}

/// `templates/authorized_apps.html`.
#[derive(Template)]
#[template(path = "authorized_apps.html")]
pub struct AuthorizedPage {
    layout: Layout,
    apps: Vec<AuthorizedRow>,
}

/// The register-an-app form.
#[derive(Deserialize, Default, Clone)]
pub struct AppForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    redirect_uris: String,
    #[serde(default)]
    scope: Vec<String>,
    #[serde(default)]
    client_type: String,
    #[serde(default)]
    grant: Vec<String>,
}

/// A Unix time as the pages show dates (`2026-12-01`).
pub(super) fn date(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!("[year]-[month]-[day]"))
                .ok()
        })
        .unwrap_or_default()
}

async fn apps_page(
    state: &AppState,
    current: CurrentUser,
    error: Option<String>,
    form: AppForm,
) -> Result<AppsPage, PageError> {
    let apps = client::list_visible(&state.ctx, &current.user).await?;
    let ids: Vec<&str> = apps.iter().map(|c| c.id.as_str()).collect();
    let daily = usage::daily_requests(&state.ctx, Subject::App, &ids).await?;
    let apps = apps
        .into_iter()
        .map(|c| AppRow {
            created: date(c.created_at),
            spark: daily
                .get(&c.id)
                .map(|d| chart::sparkline(d))
                .unwrap_or_default(),
            client: c,
        })
        .collect();
    Ok(AppsPage {
        layout: current.layout,
        apps,
        scopes: SCOPES,
        error,
        form,
    })
}

/// `GET /settings/apps`
pub async fn apps_get(
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let form = AppForm {
        client_type: "confidential".into(),
        scope: vec!["read".into()],
        ..AppForm::default()
    };
    Ok(html(
        StatusCode::OK,
        &apps_page(&state, current, None, form).await?,
    )?)
}

/// `POST /settings/apps`
pub async fn apps_post(
    CsrfForm(form): CsrfForm<AppForm>,
    current: CurrentUser,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let grants = form
        .grant
        .iter()
        .filter_map(|g| GrantType::parse(g))
        .collect();
    let new = NewClient {
        name: form.name.clone(),
        redirect_uris: form.redirect_uris.lines().map(str::to_owned).collect(),
        scope: form.scope.join(" "),
        public: form.client_type == "public",
        grants,
        oidc: Default::default(),
        // JWT until the app's settings say otherwise.
        access_token_format: Default::default(),
    };
    match client::register(&state.ctx, Actor::User(&current.user), new).await {
        Ok(reg) => {
            tracing::info!(client_id = %reg.client.id, user_id = %current.user.id, "app registered");
            let secret = reg.secret.as_ref().map(|s| s.expose());
            let back = ("/settings/apps".to_owned(), "Done: back to developer apps");
            app_reveal(&session, &state, &current, &reg.client, secret, back)
        }
        Err(AppError::Validation { message, .. }) => {
            let page = apps_page(&state, current, Some(message), form).await?;
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page)?)
        }
        Err(e) => Err(e.into()),
    }
}

/// Holds a new app's id (and secret, for a confidential app) for the one-time reveal.
/// `back` is where the reveal's Continue link leads, and its label.
pub(super) fn app_reveal(
    session: &Session,
    state: &AppState,
    current: &CurrentUser,
    client: &Client,
    secret: Option<&str>,
    back: (String, &str),
) -> Result<HttpResponse, PageError> {
    let facts = vec![Fact::new("client-id", "Client id", &client.id)];
    let (note, secret) = match secret {
        Some(s) => (
            "Use the client id and secret with HTTP Basic authentication at the token endpoint.",
            vec![s.to_owned()],
        ),
        None => (
            "A public app has no secret: it proves itself with PKCE at every sign-in.",
            Vec::new(),
        ),
    };
    let shown = Shown {
        title: client.name.clone(),
        secrets: secret,
        note: note.into(),
        back: back.0,
        back_label: back.1.into(),
        ..Shown::default()
    }
    .with_facts("client-secret", facts);
    hold(session, state, &current.user, &shown)
}

/// `GET /settings/authorized-apps`
pub async fn authorized_get(
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let apps = consent::list_with_clients(&state.ctx, &current.user.id)
        .await?
        .into_iter()
        .map(|(c, client)| AuthorizedRow {
            client_id: c.client_id,
            name: client.map_or_else(|| "(deleted app)".to_owned(), |cl| cl.name),
            scopes: c.scopes.iter().map(|s| (s, scope::describe(s))).collect(),
            granted: date(c.updated_at),
        })
        .collect();
    let page = AuthorizedPage {
        layout: current.layout,
        apps,
    };
    Ok(html(StatusCode::OK, &page)?)
}

/// `POST /settings/authorized-apps/{client_id}/revoke`
pub async fn authorized_revoke_post(
    _: CsrfForm<EmptyForm>,
    client_id: web::Path<String>,
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    consent::revoke(&state.ctx, &current.user.id, &client_id).await?;
    tracing::info!(client_id = ?client_id.as_str(), user_id = %current.user.id, "consent revoked");
    Ok(HttpResponse::SeeOther()
        .insert_header((LOCATION, "/settings/authorized-apps"))
        .finish())
}
