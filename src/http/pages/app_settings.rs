//! Settings → Developer apps → an app's token settings: the form on the app's page
//! (`app_details`) that changes what its owner (or a server administrator) may change after
//! registration (`domain::client_settings`): its access-token format and its OpenID Connect
//! settings. The form is CSRF-protected; the domain decides who may see and change which app.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::app_details;
use super::auth::html;
use super::see_other;
use crate::domain::app_edit::FieldError;
use crate::domain::client::{self, Client};
use crate::domain::client_settings::{self, AccessTokenFormat, SettingsChange};
use crate::domain::context::Actor;
use crate::error::AppError;
use crate::http::csrf::CsrfForm;
use crate::http::error::PageError;
use crate::http::layout::flash;
use crate::http::session::CurrentUser;
use crate::state::AppState;

/// The settings form, as sent (and shown back when refused).
#[derive(Deserialize, Default)]
pub struct SettingsForm {
    #[serde(default)]
    pub id_token_signed_response_alg: String,
    /// One URI per line.
    #[serde(default)]
    pub post_logout_redirect_uris: String,
    /// `jwt` or `opaque`; absent keeps the current format.
    #[serde(default)]
    pub access_token_format: String,
}

impl SettingsForm {
    /// The form showing `client`'s settings.
    pub fn of(client: &Client) -> Self {
        Self {
            id_token_signed_response_alg: client.oidc.id_token_alg.as_str().to_owned(),
            post_logout_redirect_uris: client.oidc.post_logout_redirect_uris.join("\n"),
            access_token_format: client.access_token_format.as_str().to_owned(),
        }
    }
}

/// `POST /settings/apps/{id}`
pub async fn app_settings_post(
    CsrfForm(form): CsrfForm<SettingsForm>,
    id: web::Path<String>,
    current: CurrentUser,
    session: Session,
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
            access_token_format: match form.access_token_format.as_str() {
                "" => None,
                raw => Some(AccessTokenFormat::parse(raw)?),
            },
        };
        client_settings::update(&state.ctx, by, &id, change).await
    }
    .await;
    match updated {
        Ok(client) => {
            flash(&session, "Token settings saved.")?;
            Ok(see_other(&format!("/settings/apps/{}", client.id)))
        }
        Err(AppError::Validation { field, message }) => {
            let client = client::get_manageable(&state.ctx, by, &id).await?;
            let refused = Some((form, FieldError { field, message }));
            let page = app_details::page(current.layout, client, None, vec![], refused);
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page)?)
        }
        Err(e) => Err(e.into()),
    }
}
