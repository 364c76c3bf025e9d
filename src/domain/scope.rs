//! The scopes Portcullis knows, with the plain words the consent page uses, and scope-string
//! parsing (RFC 6749 §3.3: space-delimited, case-sensitive, order-insensitive). Two kinds:
//! API scopes (what a token may do) and OpenID Connect's identity scopes (OpenID Connect Core
//! §5.4: what the client may learn about the person), which grant no API access.

use std::collections::BTreeSet;

use crate::error::{AppError, Result};

/// Every scope, with its description for people.
pub const SCOPES: &[(&str, &str)] = &[
    ("read", "Read your data"),
    ("write", "Create and change your data"),
    ("delete", "Delete your data"),
    ("email:read", "Read your email address"),
    ("email:send", "Send email on your behalf"),
    ("users:read", "See the people in your organisation"),
    (
        "admin",
        "Administer your account, including its credentials",
    ),
    ("openid", "Confirm who you are when you sign in"),
    (
        "profile",
        "See your name and when your profile last changed",
    ),
    ("email", "See your email address"),
    (
        "offline_access",
        "Stay connected to your account when you are not using the app",
    ),
];

/// The identity scopes of OpenID Connect Core §5.4 and §11: they name what the client may learn
/// about the person, not what its tokens may do, so no API credential carries them by default.
pub const IDENTITY_SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];

/// The plain-language description of a scope.
pub fn describe(scope: &str) -> &'static str {
    SCOPES
        .iter()
        .find(|(name, _)| *name == scope)
        .map_or("Unknown permission", |(_, d)| d)
}

/// A set of known scopes, kept sorted so its string form is canonical.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(BTreeSet<&'static str>);

impl ScopeSet {
    /// Parses a space-delimited scope string; unknown scopes are a validation error naming them.
    pub fn parse(raw: &str) -> Result<Self> {
        let mut set = BTreeSet::new();
        for word in raw.split(' ').filter(|w| !w.is_empty()) {
            let known = SCOPES
                .iter()
                .find(|(name, _)| *name == word)
                .ok_or_else(|| AppError::validation("scope", format!("Unknown scope: {word}")))?;
            set.insert(known.0);
        }
        Ok(Self(set))
    }

    /// Every API scope: what a credential acting fully as its person carries. Identity scopes
    /// are left out: they are asked for, never implied.
    pub fn all() -> Self {
        Self(
            SCOPES
                .iter()
                .map(|(s, _)| *s)
                .filter(|s| !IDENTITY_SCOPES.contains(s))
                .collect(),
        )
    }

    /// Scopes in both.
    pub fn intersect(&self, other: &ScopeSet) -> ScopeSet {
        ScopeSet(self.0.intersection(&other.0).copied().collect())
    }

    /// Whether every scope of `other` is in `self`.
    pub fn contains_all(&self, other: &ScopeSet) -> bool {
        other.0.is_subset(&self.0)
    }

    /// Scopes in `self` that are not in `other`.
    pub fn minus(&self, other: &ScopeSet) -> ScopeSet {
        ScopeSet(self.0.difference(&other.0).copied().collect())
    }

    /// Scopes in either.
    pub fn union(&self, other: &ScopeSet) -> ScopeSet {
        ScopeSet(self.0.union(&other.0).copied().collect())
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a scope is in the set.
    pub fn has(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    /// The scopes, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().copied()
    }
}

impl std::fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for s in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(s)?;
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_strings_are_parsed_deduplicated_and_sorted() {
        let s = ScopeSet::parse("write  read write").unwrap();
        assert_eq!(s.to_string(), "read write");
        assert!(ScopeSet::parse("").unwrap().is_empty());
    }

    #[test]
    fn unknown_scopes_are_named_in_the_error() {
        let err = ScopeSet::parse("read launch:missiles").unwrap_err();
        assert!(err.to_string().contains("launch:missiles"));
    }

    #[test]
    fn subset_and_difference() {
        let all = ScopeSet::parse("read write admin").unwrap();
        let some = ScopeSet::parse("read").unwrap();
        assert!(all.contains_all(&some));
        assert!(!some.contains_all(&all));
        assert_eq!(all.minus(&some).to_string(), "admin write");
    }

    #[test]
    fn identity_scopes_are_known_but_not_implied_by_all() {
        let s = ScopeSet::parse("openid profile email offline_access read").unwrap();
        assert_eq!(s.to_string(), "email offline_access openid profile read");
        let all = ScopeSet::all();
        assert!(IDENTITY_SCOPES.iter().all(|i| !all.has(i)));
        assert_eq!(
            all.to_string(),
            "admin delete email:read email:send read users:read write"
        );
    }

    #[test]
    fn every_scope_has_a_description() {
        for (name, _) in SCOPES {
            assert_ne!(describe(name), "Unknown permission");
        }
    }
}
