//! Bounds on what the server keeps of values it did not choose. Anyone can send a 200 KB email
//! or a 15 KB `client_id`; what is stored (the audit log, throttle keys) or shown back is cut to
//! a size fixed here, and a value too long to keep whole is kept as a short prefix plus a hash,
//! so equal inputs still compare equal. The audit event builder (`domain::audit`) applies these
//! to every field it is given; nothing here decides whether a value is valid.

use std::borrow::Cow;
use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use crate::error::{AppError, Result};

/// Longest email address accepted anywhere (RFC 5321 §4.5.3.1.3: a path is at most 256 octets,
/// two of them the angle brackets).
pub const EMAIL: usize = 254;
/// Longest display name shown back on a form, in bytes (`DisplayName` allows 100 characters of
/// up to four bytes each).
pub const NAME: usize = 400;
/// Longest user agent kept, in bytes.
pub const USER_AGENT: usize = 256;
/// Longest identifier (actor, account, tenant) or target (`kind:id`) kept whole, in bytes.
pub const ID: usize = 128;
/// Longest free-text string kept whole inside an event's detail, in bytes.
pub const TEXT: usize = 256;
/// Largest detail kept, serialized, in bytes; a larger one is replaced by its fingerprint.
pub const DETAIL: usize = 4096;
/// Characters of an unknown value kept before its hash.
const PREFIX: usize = 16;
/// Hex digits of SHA-256 kept after the prefix (48 bits: enough to tell values apart in a log).
const HASH_HEX: usize = 12;

/// The longest prefix of `s` that fits in `max` bytes, cut on a character boundary.
pub fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A short stand-in for a value that is not kept: its first characters (control characters
/// replaced) and a prefix of its SHA-256, e.g. `aaaaaaaaaaaaaaaa…#1f3c9a0b2d4e`.
pub fn fingerprint(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(PREFIX)
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect();
    out.push_str("…#");
    for b in Sha256::digest(s.as_bytes()).iter().take(HASH_HEX / 2) {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// `s` itself when it fits in `max` bytes and holds no control character, its `fingerprint`
/// otherwise. A fingerprint is shorter than any bound used here, so applying this twice changes
/// nothing more.
pub fn text(s: &str, max: usize) -> Cow<'_, str> {
    if s.len() <= max && !s.chars().any(char::is_control) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(fingerprint(s))
    }
}

/// An identifier as presented (`client_id`, an account id): itself when it is short and made of
/// the characters identifiers here are made of, its `fingerprint` otherwise.
pub fn id(s: &str) -> Cow<'_, str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_.:@+".contains(c);
    if s.len() <= ID && s.chars().all(plain) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(fingerprint(s))
    }
}

/// An email address as typed into a form, trimmed: refused (a validation error on `email`) when
/// longer than any address can be, before anything looks it up or keeps it.
pub fn email(raw: &str) -> Result<&str> {
    let email = raw.trim();
    if email.len() > EMAIL {
        return Err(AppError::validation(
            "email",
            "Enter a valid email address.",
        ));
    }
    Ok(email)
}

/// `value` with every string in it bounded by `text(.., TEXT)`, and the whole replaced by a
/// fingerprint of its serialization when that is still over `DETAIL` bytes.
pub fn detail(value: serde_json::Value) -> serde_json::Value {
    let value = strings(value);
    let size = serde_json::to_string(&value).map_or(usize::MAX, |s| s.len());
    if size <= DETAIL {
        return value;
    }
    let whole = value.to_string();
    serde_json::json!({ "truncated": fingerprint(&whole), "bytes": whole.len() })
}

fn strings(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => match text(&s, TEXT) {
            Cow::Borrowed(_) => Value::String(s),
            Cow::Owned(f) => Value::String(f),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(strings).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (text(&k, TEXT).into_owned(), strings(v)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("héllo", 3), "hé");
        assert_eq!(truncate("short", 256), "short");
        assert_eq!(truncate(&"é".repeat(200), 255).len(), 254);
    }

    #[test]
    fn a_long_value_becomes_a_short_prefix_and_hash() {
        let long = "a".repeat(15_000);
        let f = text(&long, ID);
        assert!(f.starts_with(&"a".repeat(16)), "{f}");
        assert!(f.len() < 40, "{f}");
        assert_eq!(f, text(&long, ID), "the same value, the same fingerprint");
        assert_ne!(f, text(&"a".repeat(15_001), ID));
        assert_eq!(text(&f, ID), f, "a fingerprint is kept as it is");
    }

    #[test]
    fn control_characters_are_never_kept() {
        let f = text("abc\ndef", TEXT);
        assert!(!f.chars().any(char::is_control), "{f:?}");
        assert!(!id("x\r\ny").chars().any(char::is_control));
    }

    #[test]
    fn ids_of_the_usual_shape_are_kept() {
        for ok in [
            "0123456789abcdef0123456789abcdef",
            "sys_0123456789abcdef0123456789abcdef",
            "portcullis-session",
            "018f2c3e-7b1a-7c00-8000-000000000000",
        ] {
            assert_eq!(id(ok), ok);
        }
        assert_ne!(id("has space"), "has space");
    }

    #[test]
    fn overlong_emails_are_refused() {
        assert_eq!(email("  a@b.co ").unwrap(), "a@b.co");
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(matches!(email(&long), Err(AppError::Validation { .. })));
    }

    #[test]
    fn detail_strings_and_size_are_bounded() {
        let d = detail(serde_json::json!({"email": "x".repeat(200_000), "n": 3}));
        assert!(d.to_string().len() < 100, "{d}");
        assert_eq!(d["n"], 3);
        let many: Vec<String> = (0..1000).map(|i| format!("scope{i}")).collect();
        let d = detail(serde_json::json!({ "scopes": many }));
        assert!(d.to_string().len() <= DETAIL, "{d}");
        assert!(d["truncated"].is_string());
    }
}
