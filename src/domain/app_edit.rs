//! Editing and deleting a registered app, for its owner or a server administrator (whoever
//! `client::get_manageable` admits; anyone else gets `NotFound`).
//!
//! An edit is checked field by field, so a form can mark every bad field at once; nothing is
//! saved unless every field passes. Redirect URIs, scopes and grants follow the rules of
//! registration. Each save records `app.updated` naming what changed; deleting records
//! `app.deleted` and ends the app's tokens and consents with it. Both invalidate the client
//! cache on every node.

use serde_json::json;

use crate::domain::app_profile::{self, AppProfile, ProfileInput};
use crate::domain::audit::AuditEvent;
use crate::domain::client::{self, Client, GrantType};
use crate::domain::context::{Actor, Context};
use crate::domain::user::DisplayName;
use crate::error::{AppError, Result};
use crate::runtime::invalidation::Stale;
use crate::storage;

/// An edit as typed.
#[derive(Debug, Clone, Default)]
pub struct AppEdit {
    /// Display name.
    pub name: String,
    /// Description and links.
    pub profile: ProfileInput,
    /// Redirect URIs, one per entry.
    pub redirect_uris: Vec<String>,
    /// Space-separated scopes; empty means `read`.
    pub scope: String,
    /// Grants; empty means authorization_code and refresh_token.
    pub grants: Vec<GrantType>,
}

/// What is wrong with one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The form field (`name`, `homepage_url`, `redirect_uris`, ...).
    pub field: &'static str,
    /// What is wrong, in plain words.
    pub message: String,
}

/// The outcome of an edit.
#[derive(Debug)]
pub enum Edited {
    /// Saved (or nothing changed): the app as it now is.
    Saved(Box<Client>),
    /// Refused: every bad field, nothing saved.
    Refused(Vec<FieldError>),
}

/// Collects a field's error under the form's field name.
fn check<T>(errors: &mut Vec<FieldError>, field: &'static str, r: Result<T>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(AppError::Validation { message, .. }) => {
            errors.push(FieldError { field, message });
            None
        }
        Err(e) => {
            errors.push(FieldError {
                field,
                message: e.to_string(),
            });
            None
        }
    }
}

/// The edited app, or every bad field.
fn validated(current: &Client, edit: &AppEdit) -> std::result::Result<Client, Vec<FieldError>> {
    let mut errors = Vec::new();
    let e = &mut errors;
    let name = check(e, "name", DisplayName::parse(&edit.name));
    let p = &edit.profile;
    let description = check(
        e,
        "description",
        app_profile::validate_description(&p.description),
    );
    let url = |e: &mut Vec<FieldError>, field, raw: &str| {
        check(e, field, app_profile::validate_url(field, raw))
    };
    let homepage_url = url(e, "homepage_url", &p.homepage_url);
    let privacy_policy_url = url(e, "privacy_policy_url", &p.privacy_policy_url);
    let terms_url = url(e, "terms_url", &p.terms_url);
    let logo_url = url(e, "logo_url", &p.logo_url);
    let uris = check(
        e,
        "redirect_uris",
        client::validate_redirect_uris(&edit.redirect_uris),
    );
    let scopes = check(e, "scope", client::parse_scopes(&edit.scope));
    let grants = if edit.grants.is_empty() {
        GrantType::DEFAULT.to_vec()
    } else {
        edit.grants.clone()
    };
    if let Some(uris) = &uris {
        match client::check_grants(current.is_public, &grants, uris) {
            Err(AppError::Validation {
                field: "redirect_uri",
                message,
            }) => e.push(FieldError {
                field: "redirect_uris",
                message,
            }),
            other => {
                check(e, "grant", other);
            }
        }
    }
    match (
        name,
        description,
        homepage_url,
        privacy_policy_url,
        terms_url,
        logo_url,
        uris,
        scopes,
    ) {
        (
            Some(name),
            Some(description),
            Some(homepage_url),
            Some(privacy_policy_url),
            Some(terms_url),
            Some(logo_url),
            Some(redirect_uris),
            Some(scopes),
        ) if errors.is_empty() => Ok(Client {
            name: name.as_str().to_owned(),
            redirect_uris,
            scopes,
            grant_types: grants,
            profile: AppProfile {
                description,
                homepage_url,
                privacy_policy_url,
                terms_url,
                logo_url,
            },
            ..current.clone()
        }),
        _ => Err(errors),
    }
}

/// The names of the fields that differ between `a` and `b`.
fn changes(a: &Client, b: &Client) -> Vec<&'static str> {
    let (pa, pb) = (&a.profile, &b.profile);
    [
        ("name", a.name != b.name),
        ("description", pa.description != pb.description),
        ("homepage_url", pa.homepage_url != pb.homepage_url),
        (
            "privacy_policy_url",
            pa.privacy_policy_url != pb.privacy_policy_url,
        ),
        ("terms_url", pa.terms_url != pb.terms_url),
        ("logo_url", pa.logo_url != pb.logo_url),
        ("redirect_uris", a.redirect_uris != b.redirect_uris),
        ("scope", a.scopes.to_string() != b.scopes.to_string()),
        ("grant_types", a.grant_types != b.grant_types),
    ]
    .into_iter()
    .filter_map(|(field, changed)| changed.then_some(field))
    .collect()
}

/// Edits an app. Nothing is recorded when nothing changed.
pub async fn update(
    ctx: &Context,
    by: Actor<'_>,
    client_id: &str,
    edit: AppEdit,
) -> Result<Edited> {
    let current = client::get_manageable(ctx, by, client_id).await?;
    let edited = match validated(&current, &edit) {
        Ok(c) => c,
        Err(errors) => return Ok(Edited::Refused(errors)),
    };
    let changed = changes(&current, &edited);
    if changed.is_empty() {
        return Ok(Edited::Saved(Box::new(edited)));
    }
    storage::clients::update_app(ctx.db(), &edited, ctx.now()).await?;
    ctx.caches().invalidate(Stale::CLIENTS);
    ctx.record(
        by.stamp(AuditEvent::here("app.updated"))
            .about(edited.owner_id.as_deref())
            .target(format!("client:{}", edited.id))
            .detail(json!({ "changed": changed })),
    );
    Ok(Edited::Saved(Box::new(edited)))
}

/// Deletes an app: its token families are revoked first (so its refresh tokens and the access
/// tokens issued from them stop at once), then the consents people gave it, then the app itself
/// (after which its client-credentials tokens stop and it can no longer authenticate).
/// `confirm` must be the app's name, typed by the person deleting it: deleting cannot be undone.
pub async fn delete(
    ctx: &Context,
    by: Actor<'_>,
    client_id: &str,
    confirm: &str,
) -> Result<Client> {
    let client = client::get_manageable(ctx, by, client_id).await?;
    if confirm.trim() != client.name {
        return Err(AppError::validation(
            "confirm_name",
            "Type the app's name exactly to delete it.",
        ));
    }
    let now = ctx.now();
    let families = storage::tokens::revoke_families_of_client(ctx.db(), &client.id, now).await?;
    let consents = storage::consents::delete_consents_of_client(ctx.db(), &client.id).await?;
    storage::clients::delete_client(ctx.db(), &client.id).await?;
    ctx.caches().invalidate(Stale::CLIENTS);
    ctx.caches().invalidate(Stale::REVOKED);
    ctx.record(
        by.stamp(AuditEvent::here("app.deleted"))
            .about(client.owner_id.as_deref())
            .target(format!("client:{}", client.id))
            .detail(json!({
                "name": client.name,
                "token_families_revoked": families,
                "consents_removed": consents,
            })),
    );
    Ok(client)
}
