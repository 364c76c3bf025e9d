//! Settings → Developer apps → an app's settings: the OpenID Connect settings its owner (or a
//! server administrator) may change after registration (`domain::client_settings`). The form
//! is CSRF-protected; the domain decides who may see and change which app.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::html;
use super::see_other;
use crate::domain::client::{self, Client};
use crate::domain::client_settings::{self, SettingsChange};
use crate::domain::context::Actor;
use crate::domain::jwt::SigningAlg;
use crate::error::AppError;
use crate::http::csrf::CsrfForm;
use crate::http::error::PageError;
use crate::http::session::{CurrentUser, Layout};
use crate::state::AppState;

/// `templates/app_settings.html`.
#[derive(Template)]
#[template(path = "app_settings.html")]
pub struct AppSettingsPage {
    layout: Layout,
    client: Client,
    algs: [SigningAlg; 2],
    error: Option<String>,
    form: SettingsForm,
}

/// The settings form, as sent (and shown back when refused).
#[derive(Deserialize, Default)]
pub struct SettingsForm {
    #[serde(default)]
    id_token_signed_response_alg: String,
    #[serde(default)]
    post_logout_redirect_uris: String,
}

impl SettingsForm {
    fn of(client: &Client) -> Self {
        Self {
            id_token_signed_response_alg: client.oidc.id_token_alg.as_str().to_owned(),
            post_logout_redirect_uris: client.oidc.post_logout_redirect_uris.join("\n"),
        }
    }
}

/// `GET /settings/apps/{id}`
pub async fn app_settings_get(
    id: web::Path<String>,
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let client = client::get_manageable(&state.ctx, Actor::User(&current.user), &id).await?;
    let page = AppSettingsPage {
        layout: current.layout,
        form: SettingsForm::of(&client),
        client,
        algs: SigningAlg::ALL,
        error: None,
    };
    Ok(html(StatusCode::OK, &page)?)
}

/// `POST /settings/apps/{id}`
pub async fn app_settings_post(
    CsrfForm(form): CsrfForm<SettingsForm>,
    id: web::Path<String>,
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let by = Actor::User(&current.user);
    let updated = async {
        let change = SettingsChange {
            id_token_alg: Some(client_settings::parse_alg(
                &form.id_token_signed_response_alg,
            )?),
            post_logout_redirect_uris: Some(
                form.post_logout_redirect_uris
                    .lines()
                    .map(str::to_owned)
                    .collect(),
            ),
        };
        client_settings::update(&state.ctx, by, &id, change).await
    }
    .await;
    match updated {
        Ok(client) => Ok(see_other(&format!("/settings/apps/{}", client.id))),
        Err(AppError::Validation { message, .. }) => {
            let client = client::get_manageable(&state.ctx, by, &id).await?;
            let page = AppSettingsPage {
                layout: current.layout,
                client,
                algs: SigningAlg::ALL,
                error: Some(message),
                form,
            };
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page)?)
        }
        Err(e) => Err(e.into()),
    }
}
