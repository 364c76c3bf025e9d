//! The mail sender: messages are handed over through a bounded queue and sent one after another
//! by a background task over SMTP (lettre, on tokio, TLS through rustls), so no request waits on
//! a mail server. A full queue drops the message; a failed send is logged by kind and cause,
//! never with its body (which may carry a single-use link), and fails no request. There is a
//! `Mailer` only when `--smtp-url` is set: nothing pretends to send otherwise.

use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::mpsc;

use crate::config::{MailFrom, SmtpUrl};

/// Messages waiting for the sender, at most.
pub const QUEUE: usize = 256;
/// How long one SMTP command may take before the send is given up.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// One plain-text message to send.
pub struct Outgoing {
    /// What kind of message this is (`password_reset`, ...): all the log says of it.
    pub kind: &'static str,
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body; may hold a single-use link, so never logged.
    pub body: String,
}

impl std::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outgoing")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// Whether a message was taken for sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    /// Queued; the sender will try it.
    Yes,
    /// Dropped: the queue is full or the sender is gone (logged).
    Dropped,
}

/// The handle domain operations queue mail through; cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    tx: mpsc::Sender<Outgoing>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Mailer")
    }
}

impl Mailer {
    /// Starts the background sender for this server and sender address; an unusable URL is an
    /// error at start-up, not at the first send.
    pub fn start(url: &SmtpUrl, from: &MailFrom) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
            .map_err(|e| anyhow::anyhow!("--smtp-url {}: {e}", url.redacted()))?
            .timeout(Some(COMMAND_TIMEOUT))
            .build();
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(sender(transport, from.mailbox().clone(), rx));
        Ok(Self { tx })
    }

    /// Queues a message without waiting.
    pub fn queue(&self, message: Outgoing) -> Queued {
        let kind = message.kind;
        match self.tx.try_send(message) {
            Ok(()) => Queued::Yes,
            Err(_) => {
                tracing::warn!(kind, "mail queue full or closed; message dropped");
                Queued::Dropped
            }
        }
    }
}

async fn sender(
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    mut rx: mpsc::Receiver<Outgoing>,
) {
    while let Some(message) = rx.recv().await {
        let kind = message.kind;
        let sent = match build(&from, message) {
            Ok(email) => transport
                .send(email)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        match sent {
            Ok(()) => tracing::debug!(kind, "mail sent"),
            Err(error) => tracing::warn!(kind, error, "mail could not be sent"),
        }
    }
}

/// The message as lettre sends it: plain text, dated, with a Message-ID in the sender's domain.
fn build(from: &Mailbox, message: Outgoing) -> Result<Message, String> {
    let to: Mailbox = message
        .to
        .parse()
        .map_err(|_| "the recipient is not a mail address".to_owned())?;
    let id = format!(
        "<{}@{}>",
        crate::secret::unordered_uuid_v7().simple(),
        from.email.domain()
    );
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(message.subject)
        .message_id(Some(id))
        .header(ContentType::TEXT_PLAIN)
        .body(message.body)
        .map_err(|e| format!("the message could not be built: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outgoing_message_never_shows_its_body() {
        let message = Outgoing {
            kind: "password_reset",
            to: "a@example.com".into(),
            subject: "Reset".into(),
            body: "https://id.example/reset-password?token=s3cret".into(),
        };
        let shown = format!("{message:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("a@example.com"),
            "{shown}"
        );
    }

    #[test]
    fn messages_are_plain_text_with_the_senders_domain_in_their_id() {
        let from: Mailbox = "Portcullis <noreply@id.example>".parse().unwrap();
        let message = Outgoing {
            kind: "password_changed",
            to: "a@example.com".into(),
            subject: "Your password was changed".into(),
            body: "Hello".into(),
        };
        let raw = String::from_utf8(build(&from, message).unwrap().formatted()).unwrap();
        assert!(
            raw.contains("Content-Type: text/plain; charset=utf-8"),
            "{raw}"
        );
        assert!(raw.contains("@id.example>"), "{raw}");
        assert!(raw.contains("Subject: Your password was changed"), "{raw}");
    }
}
