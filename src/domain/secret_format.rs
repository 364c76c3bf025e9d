//! The format of every machine secret Portcullis issues:
//! `<kind prefix><43 random base62 characters><6-character base62 CRC32>`.
//!
//! The random part carries 256 bits. The checksum is the CRC32 (IEEE) of everything before it,
//! prefix included, written as 6 base62 digits (`0-9A-Za-z`, zero-padded): the convention GitHub
//! tokens use, so secret scanners can recognise a leaked key, and a mistyped or truncated one is
//! refused before any database lookup.

use rand::RngExt;

/// Base62 digits in ascending value.
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Length of the random part.
pub const RANDOM_LEN: usize = 43;
/// Length of the checksum.
pub const CHECKSUM_LEN: usize = 6;

/// What a secret is for, told by its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Live-mode API key.
    ApiKeyLive,
    /// Test-mode API key.
    ApiKeyTest,
    /// Personal access token.
    PersonalAccessToken,
    /// The one personal token per user.
    PersonalToken,
    /// Account secret key.
    AccountSecretKey,
    /// OAuth client secret.
    ClientSecret,
    /// System-credential secret.
    SystemSecret,
    /// Opaque OAuth access token: a reference to claims only this server holds (clients whose
    /// access-token format is `opaque`). Not a long-lived credential.
    AccessToken,
}

impl Kind {
    /// Every kind, longest prefixes first so matching is unambiguous (no prefix starts another
    /// either: see the tests).
    pub const ALL: [Kind; 8] = [
        Kind::ApiKeyLive,
        Kind::ApiKeyTest,
        Kind::AccountSecretKey,
        Kind::SystemSecret,
        Kind::PersonalAccessToken,
        Kind::PersonalToken,
        Kind::ClientSecret,
        Kind::AccessToken,
    ];

    /// The prefix that starts secrets of this kind.
    pub const fn prefix(self) -> &'static str {
        match self {
            Kind::ApiKeyLive => "ck_live_",
            Kind::ApiKeyTest => "ck_test_",
            Kind::PersonalAccessToken => "sk-",
            Kind::PersonalToken => "pt_",
            Kind::AccountSecretKey => "usk_",
            Kind::ClientSecret => "cs_",
            Kind::SystemSecret => "sys_",
            Kind::AccessToken => "at_",
        }
    }

    /// A short human name.
    pub const fn label(self) -> &'static str {
        match self {
            Kind::ApiKeyLive => "live API key",
            Kind::ApiKeyTest => "test API key",
            Kind::PersonalAccessToken => "personal access token",
            Kind::PersonalToken => "personal token",
            Kind::AccountSecretKey => "account secret key",
            Kind::ClientSecret => "OAuth client secret",
            Kind::SystemSecret => "system credential secret",
            Kind::AccessToken => "opaque access token",
        }
    }

    /// Whether secrets of this kind are long-lived credentials a person or an app holds (API
    /// keys, personal tokens, secret keys, client secrets), as opposed to a short-lived access
    /// token the token endpoint issued.
    pub const fn is_credential(self) -> bool {
        !matches!(self, Kind::AccessToken)
    }
}

/// Why a string is not a well-formed secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// No known prefix.
    #[error("unknown prefix")]
    UnknownPrefix,
    /// Too short or too long.
    #[error("wrong length")]
    WrongLength,
    /// A character outside base62.
    #[error("invalid character")]
    InvalidCharacter,
    /// The checksum does not match.
    #[error("checksum mismatch")]
    BadChecksum,
}

/// Creates a new secret of this kind.
pub fn generate(kind: Kind) -> String {
    let mut rng = rand::rng();
    let mut out = String::with_capacity(kind.prefix().len() + RANDOM_LEN + CHECKSUM_LEN);
    out.push_str(kind.prefix());
    for _ in 0..RANDOM_LEN {
        out.push(char::from(ALPHABET[rng.random_range(0..62)]));
    }
    let sum = checksum(&out);
    out.push_str(&sum);
    out
}

/// Checks a secret's shape and checksum without touching storage.
pub fn check(secret: &str) -> Result<Kind, FormatError> {
    let kind = Kind::ALL
        .into_iter()
        .find(|k| secret.starts_with(k.prefix()))
        .ok_or(FormatError::UnknownPrefix)?;
    let body = &secret[kind.prefix().len()..];
    if body.len() != RANDOM_LEN + CHECKSUM_LEN {
        return Err(FormatError::WrongLength);
    }
    if !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(FormatError::InvalidCharacter);
    }
    let (signed, sum) = secret.split_at(secret.len() - CHECKSUM_LEN);
    if checksum(signed) != sum {
        return Err(FormatError::BadChecksum);
    }
    Ok(kind)
}

/// The short public prefix shown in lists: the kind prefix and the first 4 random characters.
pub fn display_prefix(secret: &str, kind: Kind) -> String {
    secret.chars().take(kind.prefix().len() + 4).collect()
}

/// CRC32 (IEEE) of `data` as 6 zero-padded base62 digits.
fn checksum(data: &str) -> String {
    let mut value = crc32fast::hash(data.as_bytes());
    let mut digits = [b'0'; CHECKSUM_LEN];
    for slot in digits.iter_mut().rev() {
        *slot = ALPHABET[(value % 62) as usize];
        value /= 62;
    }
    digits.iter().map(|&b| char::from(b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_check_out_as_their_kind() {
        for kind in Kind::ALL {
            let secret = generate(kind);
            assert!(secret.starts_with(kind.prefix()));
            assert_eq!(secret.len(), kind.prefix().len() + 49);
            assert_eq!(check(&secret), Ok(kind));
        }
    }

    #[test]
    fn checksum_matches_the_documented_convention() {
        // CRC32("cs_" + 43 zeros) = 0x..., written as 6 base62 digits.
        let body = format!("cs_{}", "0".repeat(RANDOM_LEN));
        let crc = crc32fast::hash(body.as_bytes());
        let mut expected = String::new();
        let mut v = crc;
        for _ in 0..6 {
            expected.insert(0, char::from(ALPHABET[(v % 62) as usize]));
            v /= 62;
        }
        assert_eq!(check(&format!("{body}{expected}")), Ok(Kind::ClientSecret));
    }

    #[test]
    fn prefixes_are_longest_first_and_none_starts_another() {
        let lengths: Vec<usize> = Kind::ALL.iter().map(|k| k.prefix().len()).collect();
        assert!(lengths.windows(2).all(|w| w[0] >= w[1]), "{lengths:?}");
        for a in Kind::ALL {
            for b in Kind::ALL {
                if a != b {
                    assert!(!a.prefix().starts_with(b.prefix()), "{a:?} / {b:?}");
                }
            }
        }
    }

    #[test]
    fn an_opaque_access_token_is_its_own_kind_and_no_credential() {
        let token = generate(Kind::AccessToken);
        assert!(token.starts_with("at_"));
        assert_eq!(token.len(), 3 + RANDOM_LEN + CHECKSUM_LEN);
        assert_eq!(check(&token), Ok(Kind::AccessToken));
        assert!(!Kind::AccessToken.is_credential());
        assert_eq!(
            Kind::ALL.iter().filter(|k| k.is_credential()).count(),
            Kind::ALL.len() - 1
        );
        // One character changed anywhere in the random part breaks the checksum.
        let mut typo = token.clone().into_bytes();
        typo[10] = if typo[10] == b'x' { b'y' } else { b'x' };
        assert_eq!(
            check(std::str::from_utf8(&typo).unwrap()),
            Err(FormatError::BadChecksum)
        );
        assert_ne!(generate(Kind::AccessToken), token);
    }

    #[test]
    fn damaged_secrets_are_refused() {
        let secret = generate(Kind::ApiKeyLive);
        let truncated = &secret[..secret.len() - 1];
        assert_eq!(check(truncated), Err(FormatError::WrongLength));
        let mut typo = secret.clone().into_bytes();
        let i = 12;
        typo[i] = if typo[i] == b'a' { b'b' } else { b'a' };
        assert_eq!(
            check(std::str::from_utf8(&typo).unwrap()),
            Err(FormatError::BadChecksum)
        );
        assert_eq!(check("xx_abc"), Err(FormatError::UnknownPrefix));
        let bad_char = format!("{}!{}", &secret[..10], &secret[11..]);
        assert_eq!(check(&bad_char), Err(FormatError::InvalidCharacter));
    }
}
