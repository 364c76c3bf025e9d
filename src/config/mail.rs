//! `--smtp-url` and `--mail-from`: where the server hands its mail, and in whose name. The URL
//! follows lettre's connection URLs: `smtp://host:port` (plain, for a relay on loopback),
//! `smtp://host:587?tls=required` (STARTTLS, refused without it), `smtps://host:465` (TLS from
//! the first byte), with `user:password@` for SMTP AUTH. It may carry a password, so its `Debug`
//! output hides it.

use std::fmt;
use std::str::FromStr;

use url::Url;

/// An SMTP URL whose `Debug` output hides any password.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl(String);

impl SmtpUrl {
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
            Err(_) => "<unparseable smtp url>".to_owned(),
        }
    }
}

impl FromStr for SmtpUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let url = Url::parse(s).map_err(|_| "expected an smtp:// or smtps:// URL".to_owned())?;
        if url.host_str().is_none_or(str::is_empty) {
            return Err("the SMTP URL names no host".into());
        }
        let tls = url.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v);
        match (url.scheme(), tls.as_deref()) {
            ("smtp", None | Some("required" | "opportunistic")) | ("smtps", None) => {
                Ok(Self(s.to_owned()))
            }
            ("smtp" | "smtps", Some(other)) => Err(format!(
                "unknown tls={other:?}: use tls=required or tls=opportunistic with smtp://, \
                 or smtps:// for TLS from the start"
            )),
            _ => Err("expected an smtp:// or smtps:// URL".to_owned()),
        }
    }
}

impl fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SmtpUrl({})", self.redacted())
    }
}

/// The sender of the server's mail: an address, optionally with a name
/// (`Portcullis <noreply@example.com>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailFrom(lettre::message::Mailbox);

impl MailFrom {
    /// The mailbox.
    pub fn mailbox(&self) -> &lettre::message::Mailbox {
        &self.0
    }
}

impl FromStr for MailFrom {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim()
            .parse()
            .map(Self)
            .map_err(|_| format!("{s:?} is not a mail address (`name <user@host>` or `user@host`)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_url_debug_hides_the_password() {
        let url: SmtpUrl = "smtps://mailer:pa55word-x@mail.example:465"
            .parse()
            .unwrap();
        let shown = format!("{url:?}");
        assert!(!shown.contains("pa55word-x"), "{shown}");
        assert!(shown.contains("mail.example"));
        assert_eq!(url.expose(), "smtps://mailer:pa55word-x@mail.example:465");
    }

    #[test]
    fn smtp_url_takes_the_documented_forms_only() {
        for good in [
            "smtp://127.0.0.1:2525",
            "smtp://mail.example:587?tls=required",
            "smtp://mail.example?tls=opportunistic",
            "smtps://user:pass@mail.example:465",
        ] {
            assert!(good.parse::<SmtpUrl>().is_ok(), "{good}");
        }
        for bad in [
            "http://mail.example",
            "smtp://mail.example?tls=maybe",
            "smtps://mail.example?tls=required",
            "mail.example:25",
        ] {
            assert!(bad.parse::<SmtpUrl>().is_err(), "{bad}");
        }
    }

    #[test]
    fn an_smtp_url_needs_a_sender() {
        use clap::Parser as _;
        let url = ["portcullis", "--smtp-url", "smtp://127.0.0.1:2525"];
        assert!(crate::config::Cli::try_parse_from(url).is_err());
        let both = crate::config::Cli::try_parse_from([
            "portcullis",
            "--smtp-url",
            "smtp://127.0.0.1:2525",
            "--mail-from",
            "noreply@example.com",
        ])
        .unwrap();
        assert!(both.settings.smtp_url.is_some() && both.settings.mail_from.is_some());
    }

    #[test]
    fn mail_from_takes_an_address_with_or_without_a_name() {
        let named: MailFrom = "Portcullis <noreply@example.com>".parse().unwrap();
        assert_eq!(named.mailbox().email.to_string(), "noreply@example.com");
        assert!("noreply@example.com".parse::<MailFrom>().is_ok());
        assert!("not an address".parse::<MailFrom>().is_err());
    }
}
