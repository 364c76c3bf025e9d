//! `--redis-url`: where rate-limit buckets are kept when not in the database. Like the database
//! URL it may carry a password, so its `Debug` output hides it.

use std::fmt;
use std::str::FromStr;

use url::Url;

/// A Redis URL whose `Debug` output hides any password.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl(String);

impl RedisUrl {
    /// The full URL, password included: only for opening the connection.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with the password replaced by `***`, safe to log.
    pub fn redacted(&self) -> String {
        match Url::parse(&self.0) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some("***"));
                url.to_string()
            }
            Ok(url) => url.to_string(),
            Err(_) => "<unparseable redis url>".to_owned(),
        }
    }
}

impl FromStr for RedisUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match Url::parse(s) {
            Ok(url) if matches!(url.scheme(), "redis" | "rediss") => Ok(Self(s.to_owned())),
            _ => Err("expected a redis:// or rediss:// URL".to_owned()),
        }
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisUrl({})", self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_url_debug_hides_the_password() {
        let url: RedisUrl = "redis://:s3cretpass@cache.example:6379/0".parse().unwrap();
        let shown = format!("{url:?}");
        assert!(!shown.contains("s3cretpass"), "{shown}");
        assert!(shown.contains("cache.example"));
        assert_eq!(url.expose(), "redis://:s3cretpass@cache.example:6379/0");
    }

    #[test]
    fn redis_url_rejects_other_schemes() {
        assert!("postgres://x".parse::<RedisUrl>().is_err());
        assert!("localhost:6379".parse::<RedisUrl>().is_err());
    }
}
