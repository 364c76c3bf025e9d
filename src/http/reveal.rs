//! The one-time reveal of a new secret. A form that creates a secret never answers with it:
//! it seals what is to be shown into the person's server-side session and answers
//! `303 See Other` to `GET /settings/reveal`, which takes it out of the session and shows it
//! once, `Cache-Control: no-store`. Reloading the page, or Back to it, finds nothing (and
//! says so); Back to the form shows the form again instead of posting it a second time; after
//! sign-out the session is gone, and with it anything not yet shown.
//!
//! The session lives in the database (shared by every node, so the 303 may land anywhere).
//! What is held there is sealed (`secret::Sealer`) for the person it was made for, so the
//! session table never stores a secret in the clear and a session cannot show another
//! person's secret.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::{Deserialize, Serialize};

use super::error::PageError;
use super::pages::auth::html;
use super::pages::see_other;
use super::session::{CurrentUser, Layout};
use crate::domain::user::User;
use crate::error::AppError;
use crate::state::AppState;

/// The session key under which the next reveal waits.
const KEY: &str = "reveal";
/// Where the reveal is shown.
pub const PATH: &str = "/settings/reveal";

/// A labelled value shown beside the secret (a client id, say), with a Copy button.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Fact {
    /// The element id (tests and the Copy button find the value by it).
    pub id: String,
    /// What it is.
    pub label: String,
    /// The value.
    pub value: String,
}

impl Fact {
    /// A fact.
    pub fn new(id: &str, label: &str, value: &str) -> Self {
        Self {
            id: id.into(),
            label: label.into(),
            value: value.into(),
        }
    }
}

/// What the reveal page shows. `Debug` leaves the secrets out.
#[derive(Serialize, Deserialize, Default)]
pub struct Shown {
    /// The page's heading ("API key “ci”").
    pub title: String,
    /// The element id of the secret (`revealed-secret` unless a page needs another).
    pub secret_id: String,
    /// The secrets: one, or a list (recovery codes).
    pub secrets: Vec<String>,
    /// Values shown with it that are not secret.
    pub facts: Vec<Fact>,
    /// How to use it.
    pub note: String,
    /// Where "Continue" leads.
    pub back: String,
    /// The label of that link.
    pub back_label: String,
}

impl std::fmt::Debug for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shown")
            .field("title", &self.title)
            .field("secrets", &"REDACTED")
            .finish_non_exhaustive()
    }
}

impl Shown {
    /// One secret, with its heading, note and the page to go back to.
    pub fn secret(title: &str, secret: &str, note: &str, back: &str, back_label: &str) -> Self {
        Self {
            title: title.into(),
            secret_id: "revealed-secret".into(),
            secrets: vec![secret.into()],
            facts: Vec::new(),
            note: note.into(),
            back: back.into(),
            back_label: back_label.into(),
        }
    }

    /// The same with values shown beside it.
    pub fn with_facts(mut self, secret_id: &str, facts: Vec<Fact>) -> Self {
        self.secret_id = secret_id.into();
        self.facts = facts;
        self
    }
}

fn context(user: &User) -> String {
    format!("reveal:{}", user.id)
}

/// Holds `shown` for one view by `user` and answers the 303 that leads to it.
pub fn hold(
    session: &Session,
    state: &AppState,
    user: &User,
    shown: &Shown,
) -> Result<HttpResponse, PageError> {
    let json = serde_json::to_vec(shown).map_err(AppError::internal)?;
    let sealed = state
        .ctx
        .sealer()?
        .seal(&json, &context(user))
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("sealing a reveal failed")))?;
    session.insert(KEY, sealed).map_err(AppError::internal)?;
    Ok(see_other(PATH))
}

/// `templates/reveal.html`.
#[derive(Template)]
#[template(path = "reveal.html")]
pub struct RevealPage {
    layout: Layout,
    /// `None` once shown: the page then says it is gone.
    shown: Option<Shown>,
}

/// `GET /settings/reveal`: what was held, once.
pub async fn reveal_get(
    current: CurrentUser,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let held: Option<String> = session.remove_as(KEY).and_then(Result::ok);
    let shown = held
        .and_then(|sealed| {
            state
                .ctx
                .sealer()
                .ok()?
                .open(&sealed, &context(&current.user))
        })
        .and_then(|json| serde_json::from_slice::<Shown>(&json).ok());
    let status = if shown.is_some() {
        StatusCode::OK
    } else {
        StatusCode::GONE
    };
    let page = RevealPage {
        layout: current.layout,
        shown,
    };
    let mut res = html(status, &page)?;
    // The page shows a secret: no cache (nor the browser's Back) may keep it.
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_what_is_shown_leaves_the_secret_out() {
        let s = Shown::secret("Key", "sk-live-very-secret", "note", "/", "Back");
        assert!(!format!("{s:?}").contains("very-secret"));
    }
}
