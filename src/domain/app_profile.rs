//! What a registered app says about itself (a description and links to its homepage, privacy
//! policy, terms of service and logo), how each is validated, and how the consent page presents
//! the app: its name, logo, links and who made it.
//!
//! The links are shown to people deciding whether to trust the app, so only `https` URLs are
//! accepted (or `http` on the local machine, for development): never `javascript:` or `data:`,
//! which a link or an image could otherwise be made to run.

use url::{Host, Url};

use crate::domain::client::{self, Client, ClientKind};
use crate::domain::context::Context;
use crate::error::{AppError, Result};
use crate::storage;

/// Longest description, in characters.
pub const DESCRIPTION_MAX: usize = 500;
/// Longest URL, in bytes (what the columns hold).
pub const URL_MAX: usize = 2048;

/// An app's description and links; each `None` when not set.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct AppProfile {
    /// A sentence or two about the app.
    pub description: Option<String>,
    /// Its homepage.
    pub homepage_url: Option<String>,
    /// Its privacy policy.
    pub privacy_policy_url: Option<String>,
    /// Its terms of service.
    pub terms_url: Option<String>,
    /// Its logo (an image shown on the consent page).
    pub logo_url: Option<String>,
}

/// The profile as typed: blank means not set.
#[derive(Debug, Clone, Default)]
pub struct ProfileInput {
    /// Description.
    pub description: String,
    /// Homepage URL.
    pub homepage_url: String,
    /// Privacy-policy URL.
    pub privacy_policy_url: String,
    /// Terms-of-service URL.
    pub terms_url: String,
    /// Logo URL.
    pub logo_url: String,
}

/// Validates a description: blank is none, at most `DESCRIPTION_MAX` characters, one paragraph
/// of text without control characters other than line breaks.
pub fn validate_description(raw: &str) -> Result<Option<String>> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.chars().count() > DESCRIPTION_MAX {
        return Err(AppError::validation(
            "description",
            format!("Keep the description to {DESCRIPTION_MAX} characters."),
        ));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        return Err(AppError::validation(
            "description",
            "The description contains a control character.",
        ));
    }
    Ok(Some(trimmed.to_owned()))
}

/// Validates one of the profile's URLs (`field` names it in the error): blank is none;
/// otherwise an absolute `https` URL with a host, or `http` on localhost or a loopback address,
/// without credentials, at most `URL_MAX` bytes.
pub fn validate_url(field: &'static str, raw: &str) -> Result<Option<String>> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let bad = |why: &str| AppError::validation(field, why.to_owned());
    if raw.len() > URL_MAX {
        return Err(bad("That URL is too long."));
    }
    let url = Url::parse(raw).map_err(|_| bad("Enter an absolute URL (https://…)."))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("The URL must not contain a user name or password."));
    }
    let local = match url.host() {
        Some(Host::Domain(d)) => d == "localhost",
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" if url.host().is_some() => Ok(Some(raw.to_owned())),
        "http" if local => Ok(Some(raw.to_owned())),
        _ => Err(bad("Use an https URL (http only on localhost).")),
    }
}

/// How the consent page presents an app.
#[derive(Debug, Clone)]
pub struct Presented {
    /// Its name.
    pub name: String,
    /// Its description and links.
    pub profile: AppProfile,
    /// Who made it: the owner's name, or `None` for an app of this server (registered at the
    /// command line, or marked first-party).
    pub made_by: Option<String>,
}

/// The app as the consent page presents it.
pub async fn presented(ctx: &Context, client: &Client) -> Result<Presented> {
    let made_by = match (&client.owner_id, client.flags.first_party) {
        (Some(owner), false) => storage::users::find_user(ctx.db(), owner)
            .await?
            .map(|u| u.name),
        _ => None,
    };
    Ok(Presented {
        name: client.name.clone(),
        profile: client.profile.clone(),
        made_by,
    })
}

/// The name of the app behind an authorization request, for the sign-in page ("Sign in to
/// continue to …"); `None` for an unknown client or a system credential.
pub async fn requesting_app(ctx: &Context, client_id: &str) -> Result<Option<String>> {
    let client = client::find_cached(ctx.db(), ctx.caches(), client_id).await?;
    Ok(client.filter(|c| c.kind == ClientKind::App).map(|c| c.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_and_local_http_urls_are_accepted_and_blank_is_none() {
        for ok in [
            "https://app.example/",
            "https://app.example/privacy?lang=en",
            "http://localhost:3000/logo.png",
            "http://127.0.0.1/terms",
        ] {
            assert_eq!(
                validate_url("homepage_url", ok).unwrap().as_deref(),
                Some(ok)
            );
        }
        assert_eq!(validate_url("homepage_url", "  ").unwrap(), None);
    }

    #[test]
    fn other_urls_are_refused_naming_the_field() {
        let long = format!("https://app.example/{}", "a".repeat(URL_MAX));
        for bad in [
            "http://app.example/",
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "/relative",
            "https://user:pw@app.example/",
            "ftp://app.example/",
            long.as_str(),
        ] {
            let err = validate_url("logo_url", bad).unwrap_err();
            assert!(
                matches!(
                    err,
                    AppError::Validation {
                        field: "logo_url",
                        ..
                    }
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn descriptions_are_bounded() {
        assert_eq!(validate_description(" Hi ").unwrap().as_deref(), Some("Hi"));
        assert_eq!(validate_description("").unwrap(), None);
        assert!(validate_description(&"x".repeat(DESCRIPTION_MAX + 1)).is_err());
        assert!(validate_description("a\u{0}b").is_err());
    }
}
