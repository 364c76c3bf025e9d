//! A small SMTP server for the tests: on a loopback port, enough of RFC 5321 for lettre
//! (greeting, EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT; no TLS, no
//! AUTH), keeping every message it accepts so a test can wait for the next one to an address
//! and read the link in it. The server under test speaks to it with its real mail client.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use crate::helpers::{TestApp, spawn_app_with};

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The envelope sender (`MAIL FROM`).
    pub from: String,
    /// The envelope recipients (`RCPT TO`).
    pub to: Vec<String>,
    /// The message as sent, headers and body, dot-unstuffed.
    pub data: String,
}

impl Mail {
    /// The `Subject` header.
    pub fn subject(&self) -> String {
        self.data
            .lines()
            .find_map(|l| l.strip_prefix("Subject: "))
            .unwrap_or_default()
            .to_owned()
    }

    /// The body, quoted-printable decoded (RFC 2045 §6.7) when it was sent so.
    pub fn body(&self) -> String {
        let (head, body) = self.data.split_once("\r\n\r\n").unwrap_or(("", &self.data));
        if !head.contains("Content-Transfer-Encoding: quoted-printable") {
            return body.to_owned();
        }
        let joined = body.replace("=\r\n", "");
        let bytes = joined.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let hex = joined.get(i + 1..i + 3).unwrap_or_default();
            if bytes[i] == b'='
                && let Ok(b) = u8::from_str_radix(hex, 16)
            {
                out.push(b);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8(out).unwrap()
    }

    /// The path and query of the first link in the body to `path` on this server.
    pub fn link(&self, path: &str) -> String {
        let body = self.body();
        let at = body
            .find(&format!("{path}?token="))
            .unwrap_or_else(|| panic!("no {path} link in:\n{body}"));
        body[at..]
            .split(|c: char| c.is_whitespace())
            .next()
            .unwrap()
            .to_owned()
    }
}

/// The listener and what it accepted.
#[derive(Clone)]
pub struct MailCatcher {
    port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
    arrived: Arc<Notify>,
}

impl MailCatcher {
    /// Listens on a free loopback port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let catcher = Self {
            port: listener.local_addr().unwrap().port(),
            mails: Arc::default(),
            arrived: Arc::default(),
        };
        let accepting = catcher.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(accepting.clone().session(stream));
            }
        });
        catcher
    }

    /// `--smtp-url` for the server under test.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Takes the oldest message to `to` not taken yet, waiting up to 20 seconds for one.
    pub async fn next_to(&self, to: &str) -> Mail {
        self.next_about(to, "").await
    }

    /// Takes the oldest message to `to` whose subject holds `subject`, waiting up to 20 seconds
    /// for one.
    pub async fn next_about(&self, to: &str, subject: &str) -> Mail {
        let wait = async {
            loop {
                let notified = self.arrived.notified();
                if let Some(mail) = self.take(to, subject) {
                    return mail;
                }
                notified.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(20), wait)
            .await
            .unwrap_or_else(|_| panic!("no mail to {to} about {subject:?} arrived"))
    }

    /// How many messages to `to` are waiting, not taken.
    pub fn waiting_for(&self, to: &str) -> usize {
        let mails = self.mails.lock().unwrap();
        mails.iter().filter(|m| m.to.iter().any(|t| t == to)).count()
    }

    fn take(&self, to: &str, subject: &str) -> Option<Mail> {
        let mut mails = self.mails.lock().unwrap();
        let at = mails
            .iter()
            .position(|m| m.to.iter().any(|t| t == to) && m.subject().contains(subject))?;
        Some(mails.remove(at))
    }

    /// One SMTP session (RFC 5321 §4.1).
    async fn session(self, stream: TcpStream) {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        let mut reply = async |text: &str| write.write_all(text.as_bytes()).await.is_ok();
        if !reply("220 catcher.test ESMTP\r\n").await {
            return;
        }
        let (mut from, mut to) = (String::new(), Vec::new());
        while let Ok(Some(line)) = lines.next_line().await {
            let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
            let answer = match verb.as_str() {
                "EHLO" => "250-catcher.test\r\n250 8BITMIME\r\n",
                "HELO" | "NOOP" => "250 OK\r\n",
                "MAIL" => {
                    from = address(&line);
                    to.clear();
                    "250 OK\r\n"
                }
                "RCPT" => {
                    to.push(address(&line));
                    "250 OK\r\n"
                }
                "RSET" => {
                    from.clear();
                    to.clear();
                    "250 OK\r\n"
                }
                "DATA" => {
                    if !reply("354 end with <CRLF>.<CRLF>\r\n").await {
                        return;
                    }
                    let mut data = String::new();
                    while let Ok(Some(l)) = lines.next_line().await {
                        if l == "." {
                            break;
                        }
                        // RFC 5321 §4.5.2: a leading dot was doubled by the sender.
                        data.push_str(l.strip_prefix('.').unwrap_or(&l));
                        data.push_str("\r\n");
                    }
                    let mail = Mail {
                        from: std::mem::take(&mut from),
                        to: std::mem::take(&mut to),
                        data,
                    };
                    self.mails.lock().unwrap().push(mail);
                    self.arrived.notify_waiters();
                    "250 OK queued\r\n"
                }
                "QUIT" => {
                    reply("221 bye\r\n").await;
                    return;
                }
                _ => "502 command not implemented\r\n",
            };
            if !reply(answer).await {
                return;
            }
        }
    }
}

/// The address in `MAIL FROM:<a>` or `RCPT TO:<a>`.
fn address(line: &str) -> String {
    line.split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(a, _)| a.to_owned())
        .unwrap_or_default()
}

/// A server that mails through a new catcher, and the catcher.
pub async fn spawn_app_with_mail() -> (TestApp, MailCatcher) {
    let catcher = MailCatcher::start().await;
    let url = catcher.url();
    let app = spawn_app_with(|s| {
        s.smtp_url = Some(url.parse().unwrap());
        s.mail_from = Some("Portcullis <noreply@portcullis.test>".parse().unwrap());
    })
    .await;
    (app, catcher)
}
