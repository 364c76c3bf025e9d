//! Settings → Credentials: the forms that create an API key and a personal access token, and
//! what they typed, kept for the page when a submission is refused (every bad field marked,
//! nothing retyped).

use actix_session::Session;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::credentials::{invalid_with, reveal};
use crate::domain::credentials::{NewApiKey, format_time};
use crate::domain::principal::Principal;
use crate::http::csrf::CsrfForm;
use crate::http::error::PageError;
use crate::http::session::CurrentUser;
use crate::state::AppState;

/// What a refused form held, and what was wrong; `form` names which (`api_key`, `pat`).
#[derive(Default)]
pub struct Typed {
    /// The form that was sent, if any.
    pub form: &'static str,
    /// The API-key form's values.
    pub key: ApiKeyForm,
    /// The token form's values.
    pub pat: PatForm,
    /// Each bad field and what is wrong with it.
    pub errors: Vec<(&'static str, String)>,
}

impl Typed {
    /// Whether `field` of `form` was refused.
    pub fn bad(&self, form: &str, field: &str) -> bool {
        self.form == form && self.errors.iter().any(|(f, _)| *f == field)
    }

    /// What is wrong with `field` of `form` (empty when nothing).
    pub fn why(&self, form: &str, field: &str) -> String {
        if self.form != form {
            return String::new();
        }
        self.errors
            .iter()
            .filter(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Whether the API-key form's `permission` box is ticked (read, on a fresh form).
    pub fn permitted(&self, permission: &str) -> bool {
        if self.form == "api_key" {
            self.key.permission.iter().any(|p| p == permission)
        } else {
            permission == "read"
        }
    }

    /// Whether the API-key form asked for the test environment.
    pub fn test_environment(&self) -> bool {
        self.form == "api_key" && self.key.environment == "test"
    }

    /// Whether the token form's expiry preset is `value` (30 days on a fresh form).
    pub fn preset(&self, value: &str) -> bool {
        if self.form == "pat" && !self.pat.expires_in.is_empty() {
            self.pat.expires_in == value
        } else {
            value == "30"
        }
    }
}

/// Form of the API-key creation.
#[derive(Deserialize, Default, Clone)]
pub struct ApiKeyForm {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Ticked permissions.
    #[serde(default)]
    pub permission: Vec<String>,
    /// `live` or `test`.
    #[serde(default)]
    pub environment: String,
    /// A date, or empty.
    #[serde(default)]
    pub expires_on: String,
    /// Addresses and ranges as typed.
    #[serde(default)]
    pub allowed_ips: String,
}

/// A date from an `<input type=date>` means the end of that day, UTC.
pub(super) fn end_of_day(date: &str) -> Option<String> {
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
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let typed = Typed {
        form: "api_key",
        key: f.clone(),
        ..Typed::default()
    };
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
            &session,
            &state,
            &current,
            &format!("API key “{}”", issued.credential.name),
            issued.secret.expose(),
            "Send it in the Authorization header: Authorization: Bearer followed by the key.",
        ),
        Err(e) => invalid_with(&state, current, e, typed).await,
    }
}

/// Form of the personal-access-token creation: a preset (`7`, `30`, `60`, `90` days,
/// `custom` with `expires_on`, or `none`), as GitHub's token settings offer.
#[derive(Deserialize, Default, Clone)]
pub struct PatForm {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// The preset chosen.
    #[serde(default)]
    pub expires_in: String,
    /// The custom date.
    #[serde(default)]
    pub expires_on: String,
}

impl PatForm {
    /// The expiry asked for: `None` for none; an empty date (refused) when nothing fits.
    fn expiry(&self, now: i64) -> Option<String> {
        match self.expires_in.as_str() {
            "none" => None,
            days @ ("7" | "30" | "60" | "90") => {
                let days: i64 = days.parse().unwrap_or(30);
                Some(format_time(now + days * 86_400))
            }
            _ => Some(end_of_day(&self.expires_on).unwrap_or_default()),
        }
    }
}

/// `POST /settings/credentials/tokens`
pub async fn pat_post(
    CsrfForm(f): CsrfForm<PatForm>,
    current: CurrentUser,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let expiry = f.expiry(state.credentials.clock().now());
    match state
        .credentials
        .create_pat(
            &Principal::session(&current.user),
            "active",
            &f.name,
            expiry.as_deref(),
        )
        .await
    {
        Ok(issued) => reveal(
            &session,
            &state,
            &current,
            &format!("Personal access token “{}”", issued.credential.name),
            issued.secret.expose(),
            "It acts as you until its expiry date.",
        ),
        Err(e) => {
            let typed = Typed {
                form: "pat",
                pat: f,
                ..Typed::default()
            };
            invalid_with(&state, current, e, typed).await
        }
    }
}
