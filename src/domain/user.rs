//! Account types and the rules their fields follow.

use crate::error::{AppError, Result};

/// A stored account, as the rest of the application sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// UUID (v7) in its hyphenated form.
    pub id: String,
    /// Normalised email address.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Administrators manage every app, tenant and credential.
    pub is_admin: bool,
    /// An administrator confirmed the address belongs to the person (OpenID Connect's
    /// `email_verified`); false for every new account.
    pub email_verified: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds: when the account last changed (OpenID Connect's `updated_at`).
    pub updated_at: i64,
    /// Unix seconds: when a server administrator disabled the account; `None` while active. A
    /// disabled account cannot sign in and nothing it holds works until it is enabled again.
    pub disabled_at: Option<i64>,
}

impl User {
    /// Whether the account may sign in and use what it holds (not disabled).
    pub fn is_active(&self) -> bool {
        self.disabled_at.is_none()
    }

    /// The id as the REST API shows it (`usr_` + 32 hex digits).
    pub fn public_id(&self) -> String {
        Self::public_id_of(&self.id)
    }

    /// The public form of a stored user id.
    pub fn public_id_of(id: &str) -> String {
        format!("usr_{}", id.replace('-', ""))
    }

    /// The stored id behind a public one (`usr_…`), if it is well-formed.
    pub fn id_from_public(public: &str) -> Option<String> {
        let hex = public.strip_prefix("usr_")?;
        uuid::Uuid::try_parse(hex).ok().map(|u| u.to_string())
    }
}

/// A syntactically valid, lower-cased email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Validates and normalises an address. Deliberately loose (one `@`, a dotted domain, no
    /// spaces): the only real check of an address is mail reaching it.
    pub fn parse(raw: &str) -> Result<Self> {
        let email = raw.trim().to_lowercase();
        let bad = || AppError::validation("email", "Enter a valid email address.");
        if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = email.split_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(bad());
        }
        Ok(Self(email))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A display name: 1 to 100 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Validates a name.
    pub fn parse(raw: &str) -> Result<Self> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(AppError::validation("name", "Enter a name."));
        }
        if name.chars().count() > 100 {
            return Err(AppError::validation(
                "name",
                "Names are at most 100 characters.",
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(AppError::validation(
                "name",
                "Names cannot contain control characters.",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// The validated name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "ada@example",
            "a b@example.com",
            "a@b@c.com",
            "ada@.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn names_must_be_between_1_and_100_characters() {
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"x".repeat(101)).is_err());
        assert_eq!(DisplayName::parse(" Ada ").unwrap().as_str(), "Ada");
        assert!(DisplayName::parse(&"é".repeat(100)).is_ok());
    }

    #[test]
    fn public_ids_are_prefixed_hex() {
        let user = User {
            id: "0190f3a2-1111-7222-8333-444455556666".into(),
            email: "a@b.co".into(),
            name: "A".into(),
            is_admin: false,
            email_verified: false,
            created_at: 0,
            updated_at: 0,
            disabled_at: None,
        };
        assert_eq!(user.public_id(), "usr_0190f3a2111172228333444455556666");
    }
}
