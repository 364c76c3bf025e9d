//! Settings → Developer apps → an app: everything about one registered app on one page, for its
//! owner or a server administrator (`domain::client::get_manageable` decides; anyone else gets
//! 404). The page edits the app (`domain::app_edit`), its token and OpenID Connect settings
//! (posted to `app_settings`), rotates its secret with an optional overlap (`domain::secret_rotation`; the
//! new secret is revealed once through `http::reveal`) and deletes it. Every form is
//! CSRF-protected and leaves a flash message for the page it leads to.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::html;
use super::see_other;
use super::settings::{app_reveal, date};
use crate::domain::app_edit::{self, AppEdit, Edited, FieldError};
use crate::domain::app_profile::ProfileInput;
use crate::domain::client::{self, Client, GrantType};
use crate::domain::client_settings::AccessTokenFormat;
use crate::domain::context::Actor;
use crate::domain::credentials::format_time;
use crate::domain::jwt::SigningAlg;
use crate::domain::scope::SCOPES;
use crate::domain::secret_rotation::Overlap;
use crate::error::AppError;
use crate::http::csrf::CsrfForm;
use crate::http::error::PageError;
use crate::http::layout::flash;
use crate::http::session::{CurrentUser, Layout};
use crate::state::AppState;

use super::app_settings::SettingsForm;

/// `templates/app_details.html`.
#[derive(Template)]
#[template(path = "app_details.html")]
pub struct AppDetailsPage {
    layout: Layout,
    client: Client,
    created: String,
    previous_until: Option<String>,
    form: EditForm,
    errors: Vec<FieldError>,
    scopes: &'static [(&'static str, &'static str)],
    grants: [&'static str; 3],
    overlaps: [Overlap; 4],
    algs: [SigningAlg; 2],
    formats: [AccessTokenFormat; 2],
    settings: SettingsForm,
    settings_error: Option<FieldError>,
}

impl AppDetailsPage {
    /// The message for `field`, when it was refused.
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    /// Whether `field` was refused.
    fn bad(&self, field: &str) -> bool {
        self.error(field).is_some()
    }

    /// Whether the form has `scope` ticked.
    fn has_scope(&self, scope: &str) -> bool {
        self.form.scope.iter().any(|s| s == scope)
    }

    /// Whether the form has `grant` ticked.
    fn has_grant(&self, grant: &str) -> bool {
        self.form.grant.iter().any(|g| g == grant)
    }

    /// Whether the settings form's `field` was refused.
    fn settings_bad(&self, field: &str) -> bool {
        self.settings_error
            .as_ref()
            .is_some_and(|e| e.field == field)
    }
}

/// The edit form, as sent (and shown back when refused).
#[derive(Deserialize, Default)]
pub struct EditForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    homepage_url: String,
    #[serde(default)]
    privacy_policy_url: String,
    #[serde(default)]
    terms_url: String,
    #[serde(default)]
    logo_url: String,
    #[serde(default)]
    redirect_uris: String,
    #[serde(default)]
    scope: Vec<String>,
    #[serde(default)]
    grant: Vec<String>,
}

impl EditForm {
    fn of(c: &Client) -> Self {
        let p = &c.profile;
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        Self {
            name: c.name.clone(),
            description: text(&p.description),
            homepage_url: text(&p.homepage_url),
            privacy_policy_url: text(&p.privacy_policy_url),
            terms_url: text(&p.terms_url),
            logo_url: text(&p.logo_url),
            redirect_uris: c.redirect_uris.join("\n"),
            scope: c.scopes.iter().map(str::to_owned).collect(),
            grant: c
                .grant_types
                .iter()
                .map(|g| g.as_str().to_owned())
                .collect(),
        }
    }

    fn edit(&self) -> AppEdit {
        AppEdit {
            name: self.name.clone(),
            profile: ProfileInput {
                description: self.description.clone(),
                homepage_url: self.homepage_url.clone(),
                privacy_policy_url: self.privacy_policy_url.clone(),
                terms_url: self.terms_url.clone(),
                logo_url: self.logo_url.clone(),
            },
            redirect_uris: self.redirect_uris.lines().map(str::to_owned).collect(),
            scope: self.scope.join(" "),
            grants: self
                .grant
                .iter()
                .filter_map(|g| GrantType::parse(g))
                .collect(),
        }
    }
}

/// The page for `client`, with the forms as given.
pub fn page(
    layout: Layout,
    client: Client,
    form: Option<EditForm>,
    errors: Vec<FieldError>,
    settings: Option<(SettingsForm, FieldError)>,
) -> AppDetailsPage {
    let (settings, settings_error) = match settings {
        Some((form, error)) => (form, Some(error)),
        None => (SettingsForm::of(&client), None),
    };
    AppDetailsPage {
        layout,
        created: date(client.created_at),
        previous_until: client
            .previous_secret
            .as_ref()
            .map(|p| format_time(p.until)),
        form: form.unwrap_or_else(|| EditForm::of(&client)),
        client,
        errors,
        scopes: SCOPES,
        grants: [
            GrantType::AuthorizationCode.as_str(),
            GrantType::RefreshToken.as_str(),
            GrantType::ClientCredentials.as_str(),
        ],
        overlaps: Overlap::ALL,
        algs: SigningAlg::ALL,
        formats: AccessTokenFormat::ALL,
        settings,
        settings_error,
    }
}

fn app_path(id: &str) -> String {
    format!("/settings/apps/{id}")
}

/// `GET /settings/apps/{id}`
pub async fn app_get(
    id: web::Path<String>,
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let client = client::get_manageable(&state.ctx, Actor::User(&current.user), &id).await?;
    let page = page(current.layout, client, None, Vec::new(), None);
    Ok(html(StatusCode::OK, &page)?)
}

/// `POST /settings/apps/{id}/edit`: saved, or the form again with every bad field marked.
pub async fn edit_post(
    CsrfForm(form): CsrfForm<EditForm>,
    id: web::Path<String>,
    current: CurrentUser,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let by = Actor::User(&current.user);
    match app_edit::update(&state.ctx, by, &id, form.edit()).await? {
        Edited::Saved(client) => {
            flash(&session, "App saved.")?;
            Ok(see_other(&app_path(&client.id)))
        }
        Edited::Refused(errors) => {
            let client = client::get_manageable(&state.ctx, by, &id).await?;
            let page = page(current.layout, client, Some(form), errors, None);
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page)?)
        }
    }
}

/// The rotate form: how long the current secret keeps working.
#[derive(Deserialize)]
pub struct RotateForm {
    #[serde(default)]
    overlap: String,
}

/// `POST /settings/apps/{id}/rotate-secret`: the new secret is revealed once.
pub async fn rotate_post(
    CsrfForm(form): CsrfForm<RotateForm>,
    id: web::Path<String>,
    current: CurrentUser,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let overlap = Overlap::parse(&form.overlap)?;
    let by = Actor::User(&current.user);
    let (client, secret) = client::rotate_secret(&state.ctx, by, &id, overlap).await?;
    tracing::info!(client_id = %client.id, user_id = %current.user.id, "app secret rotated");
    flash(&session, "Secret rotated.")?;
    let back = (app_path(&client.id), "Done: back to the app");
    app_reveal(
        &session,
        &state,
        &current,
        &client,
        Some(secret.expose()),
        back,
    )
}

/// The delete form: the app's name, typed to confirm.
#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    confirm_name: String,
}

/// `POST /settings/apps/{id}/delete`
pub async fn delete_post(
    CsrfForm(form): CsrfForm<DeleteForm>,
    id: web::Path<String>,
    current: CurrentUser,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let by = Actor::User(&current.user);
    let client = match app_edit::delete(&state.ctx, by, &id, &form.confirm_name).await {
        Ok(c) => c,
        Err(AppError::Validation { field, message }) => {
            let client = client::get_manageable(&state.ctx, by, &id).await?;
            let errors = vec![FieldError { field, message }];
            let page = page(current.layout, client, None, errors, None);
            return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page)?);
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(client_id = %client.id, user_id = %current.user.id, "app deleted");
    flash(&session, format!("App “{}” deleted.", client.name))?;
    Ok(see_other("/settings/apps"))
}
