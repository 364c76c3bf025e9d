//! What the server mails a person, and the one way to mail it: `send` a `Notice` to an address.
//! Mail is plain text, its subject says what happened, and every link in it points at the
//! server's issuer URL. Without `--smtp-url` there is no outbox and `send` is a no-op answering
//! `Sent::No`: nothing pretends to send. Sending happens off the request path
//! (`runtime::mailer`), so a mail server that is slow or down fails no request.

use crate::domain::context::Context;
use crate::domain::email_tokens::Purpose;
use crate::runtime::mailer::{Mailer, Outgoing, Queued};
use crate::secret::MailToken;

/// Where notices go out: the mail sender and the public URL links point at.
#[derive(Debug, Clone)]
pub struct Outbox {
    mailer: Mailer,
    issuer: String,
}

impl Outbox {
    /// An outbox sending through `mailer`, linking to `issuer` (no trailing slash).
    pub fn new(mailer: Mailer, issuer: String) -> Self {
        Self { mailer, issuer }
    }

    /// The link that opens `token` for `purpose`.
    pub fn link(&self, purpose: Purpose, token: &MailToken) -> MailToken {
        MailToken::new(format!(
            "{}{}?token={}",
            self.issuer,
            purpose.path(),
            token.expose()
        ))
    }
}

/// Something that happened to an account, worth telling its owner by mail.
#[derive(Debug)]
pub enum Notice {
    /// Confirm this address: the link opens the confirmation page.
    VerifyEmail {
        /// The single-use link.
        link: MailToken,
    },
    /// Someone asked to reset the password: the link opens the form for a new one.
    PasswordReset {
        /// The single-use link.
        link: MailToken,
    },
    /// The password was changed (or reset).
    PasswordChanged,
    /// The account's address was changed away from this one.
    EmailChanged,
    /// A second factor was added to the account.
    FactorEnrolled {
        /// Which kind, as the person knows it ("authenticator app", "security key").
        factor: &'static str,
    },
    /// A recovery code was used to sign in.
    RecoveryCodeUsed {
        /// Codes left.
        remaining: usize,
    },
}

/// Whether a notice went to the sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Queued for sending.
    Yes,
    /// Not sent: no mail is configured, or the queue was full (logged).
    No,
}

/// The closing every mail that reports a change ends with.
const NOT_YOU: &str = "If this was not you, sign in and change your password at once, \
                       or ask an administrator of this server for help.";

impl Notice {
    /// (kind for the log, subject, plain-text body).
    fn compose(&self, issuer: &str) -> (&'static str, String, String) {
        match self {
            Self::VerifyEmail { link } => (
                "verify_email",
                "Confirm your email address".into(),
                format!(
                    "Someone, hopefully you, gave this address to the account at {issuer}.\n\n\
                     To confirm that it is yours, open this link within 24 hours and press \
                     \"Confirm\":\n\n{}\n\nIf this was not you, ignore this mail: nothing \
                     changes without the link.\n",
                    link.expose()
                ),
            ),
            Self::PasswordReset { link } => (
                "password_reset",
                "Reset your password".into(),
                format!(
                    "Someone, hopefully you, asked to reset the password of the account with \
                     this address at {issuer}.\n\nTo choose a new password, open this link \
                     within 30 minutes. It works once, and only the newest link works:\n\n{}\n\n\
                     If this was not you, ignore this mail: your password stays as it is.\n",
                    link.expose()
                ),
            ),
            Self::PasswordChanged => (
                "password_changed",
                "Your password was changed".into(),
                format!(
                    "The password of your account at {issuer} was just changed. Every other \
                     browser, session token and app was signed out.\n\n{NOT_YOU}\n"
                ),
            ),
            Self::EmailChanged => (
                "email_changed",
                "Your account's email address was changed".into(),
                format!(
                    "The account at {issuer} that used this address now uses another one; \
                     this address will get no more mail about it.\n\n{NOT_YOU}\n"
                ),
            ),
            Self::FactorEnrolled { factor } => (
                "factor_enrolled",
                format!("A sign-in factor was added to your account: {factor}"),
                format!(
                    "A second factor ({factor}) was added to your account at {issuer}.\n\n\
                     {NOT_YOU}\n"
                ),
            ),
            Self::RecoveryCodeUsed { remaining } => (
                "recovery_code_used",
                "A recovery code was used to sign in".into(),
                format!(
                    "A recovery code was used to sign in to your account at {issuer}. \
                     {remaining} code(s) remain.\n\n{NOT_YOU}\n"
                ),
            ),
        }
    }
}

/// Mails `notice` to the account's address `to`, when the server has mail.
pub fn send(ctx: &Context, to: &str, notice: &Notice) -> Sent {
    deliver(ctx.outbox(), to, notice)
}

fn deliver(outbox: Option<&Outbox>, to: &str, notice: &Notice) -> Sent {
    let Some(outbox) = outbox else {
        return Sent::No;
    };
    let (kind, subject, body) = notice.compose(&outbox.issuer);
    let message = Outgoing {
        kind,
        to: to.to_owned(),
        subject,
        body,
    };
    match outbox.mailer.queue(message) {
        Queued::Yes => Sent::Yes,
        Queued::Dropped => Sent::No,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_notice_says_what_happened_and_links_carry_the_link() {
        let issuer = "https://id.example";
        let link = || MailToken::new("https://id.example/reset-password?token=t0k".into());
        let (_, subject, body) = Notice::PasswordReset { link: link() }.compose(issuer);
        assert_eq!(subject, "Reset your password");
        assert!(body.contains("https://id.example/reset-password?token=t0k"));
        assert!(body.contains("30 minutes"));
        let (_, subject, body) = Notice::VerifyEmail { link: link() }.compose(issuer);
        assert_eq!(subject, "Confirm your email address");
        assert!(body.contains("token=t0k"));
        let (_, subject, _) = Notice::PasswordChanged.compose(issuer);
        assert_eq!(subject, "Your password was changed");
        let (_, subject, _) = Notice::FactorEnrolled {
            factor: "security key",
        }
        .compose(issuer);
        assert!(subject.contains("security key"));
        let (_, _, body) = Notice::RecoveryCodeUsed { remaining: 7 }.compose(issuer);
        assert!(body.contains("7 code(s) remain"));
        let (_, subject, body) = Notice::EmailChanged.compose(issuer);
        assert!(subject.contains("email address was changed") && body.contains(issuer));
    }

    #[test]
    fn a_notice_never_shows_its_link_in_debug_output() {
        let notice = Notice::VerifyEmail {
            link: MailToken::new("https://id.example/verify-email?token=s3cret".into()),
        };
        assert!(!format!("{notice:?}").contains("s3cret"));
    }

    #[test]
    fn without_an_outbox_nothing_is_sent() {
        assert_eq!(
            deliver(None, "a@example.com", &Notice::PasswordChanged),
            Sent::No
        );
    }
}
