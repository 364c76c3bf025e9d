//! A person's browser sessions as Settings → Sessions shows them: where each signed in from (a
//! short device summary of its user agent, and its address), when, and when it was last used;
//! and ending one of them, with the session tokens tied to it (OWASP ASVS 5.0 §7.5.2: a person
//! can see their active sessions and end any of them).
//!
//! A session is named by its public id (`sid`, random, also in session tokens), never by its
//! row id, the hash of the cookie's key. A person reaches only their own sessions: every query
//! is by the person and the id together, so someone else's id is simply not found.

use crate::domain::audit::{AuditEvent, Meta};
use crate::domain::bounded;
use crate::domain::context::Context;
use crate::domain::session_tokens;
use crate::error::{AppError, Result};
use crate::runtime::invalidation::Stale;
use crate::storage;

/// Session-state entry holding the user agent the session signed in with (at most
/// `bounded::USER_AGENT` bytes).
pub const STATE_USER_AGENT: &str = "ua";
/// Session-state entry holding the client address the session signed in from.
pub const STATE_IP: &str = "ip";

/// One live browser session of a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSession {
    /// The session's public id (not the cookie key, nor derived from it).
    pub sid: String,
    /// The user agent it signed in with, if it sent one.
    pub user_agent: Option<String>,
    /// The client address it signed in from, if known.
    pub ip: Option<String>,
    /// When the person signed in (Unix seconds).
    pub signed_in_at: i64,
    /// When the session was last used (Unix seconds).
    pub last_seen_at: i64,
}

impl LiveSession {
    /// A short readable summary of its user agent, e.g. "Firefox on Windows".
    pub fn device(&self) -> String {
        device(self.user_agent.as_deref())
    }
}

/// What the state of a newly signed-in session records of where it came from: the user agent
/// (cut to `bounded::USER_AGENT` bytes on a character boundary) and the client address.
pub fn origin_entries(meta: &Meta) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(ua) = meta.user_agent.as_deref().filter(|ua| !ua.is_empty()) {
        out.push((
            STATE_USER_AGENT,
            bounded::truncate(ua, bounded::USER_AGENT).to_owned(),
        ));
    }
    if let Some(ip) = &meta.ip {
        out.push((STATE_IP, ip.clone()));
    }
    out
}

/// Which session an `end` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The one the request came from: the person is now signed out here too.
    ThisSession,
    /// Another of the person's sessions.
    Another,
}

/// Listing and ending a person's browser sessions; cheap to clone.
#[derive(Clone)]
pub struct BrowserSessions {
    ctx: Context,
    session_max: i64,
}

impl BrowserSessions {
    /// Builds the service; `session_max` is the sessions' absolute lifetime (seconds).
    pub fn new(ctx: Context, session_max: i64) -> Self {
        Self { ctx, session_max }
    }

    /// A person's live sessions (not signed out, not idle past their expiry, not past their
    /// absolute lifetime), most recently used first.
    pub async fn list(&self, user_id: &str) -> Result<Vec<LiveSession>> {
        let now = self.ctx.now();
        storage::sessions::list_live(self.ctx.db(), user_id, now - self.session_max, now).await
    }

    /// Ends the person's session `sid` and revokes the session tokens tied to it. `current` is
    /// the session the request came from. `NotFound` when the person has no such live session
    /// (someone else's id included), and then nothing changes.
    pub async fn end(&self, user_id: &str, sid: &str, current: Option<&str>) -> Result<Ended> {
        let Some(tokens) =
            storage::session_tokens::end_session(self.ctx.db(), user_id, sid, self.ctx.now())
                .await?
        else {
            return Err(AppError::NotFound("Session"));
        };
        if !tokens.is_empty() {
            self.ctx.caches().invalidate(Stale::REVOKED);
        }
        let ended = if current == Some(sid) {
            Ended::ThisSession
        } else {
            Ended::Another
        };
        self.ctx.record(
            AuditEvent::here("session.ended")
                .by_user(user_id)
                .target(format!("session:{sid}"))
                .detail(serde_json::json!({
                    "current": ended == Ended::ThisSession,
                    "session_tokens": tokens.len(),
                })),
        );
        session_tokens::record_revoked(&self.ctx, &tokens, "session_ended", ("user", user_id));
        Ok(ended)
    }
}

/// A short readable summary of a user agent ("Chrome on Linux", "Safari on iOS", "curl"), for a
/// person to recognise their own devices by. A guess from well-known tokens, not a parser:
/// anything unrecognised is "Unknown browser" or "Unknown device".
pub fn device(user_agent: Option<&str>) -> String {
    let ua = user_agent.map(str::trim).unwrap_or_default();
    match (browser(ua), os(ua)) {
        (Some(b), Some(o)) => format!("{b} on {o}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(o)) => format!("Unknown browser on {o}"),
        (None, None) => "Unknown device".to_owned(),
    }
}

/// Browser tokens, most specific first: Chromium-based browsers also say `Chrome/` and
/// `Safari/`, and Chrome says `Safari/`.
const BROWSERS: [(&str, &str); 18] = [
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("Edge/", "Edge"),
    ("OPR/", "Opera"),
    ("Opera", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Vivaldi/", "Vivaldi"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Trident/", "Internet Explorer"),
    ("MSIE ", "Internet Explorer"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
    ("Wget/", "Wget"),
];

/// Operating-system tokens, most specific first: Android says `Linux`, iOS says `Mac OS X`.
const SYSTEMS: [(&str, &str); 11] = [
    ("Windows Phone", "Windows Phone"),
    ("Windows", "Windows"),
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPod", "iOS"),
    ("iPad", "iPadOS"),
    ("CrOS", "ChromeOS"),
    ("Macintosh", "macOS"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
    ("FreeBSD", "FreeBSD"),
];

fn browser(ua: &str) -> Option<&'static str> {
    BROWSERS
        .iter()
        .find(|(token, _)| ua.contains(token))
        .map(|(_, name)| *name)
}

fn os(ua: &str) -> Option<&'static str> {
    SYSTEMS
        .iter()
        .find(|(token, _)| ua.contains(token))
        .map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(ua: &str) -> String {
        device(Some(ua))
    }

    #[test]
    fn desktop_browsers_are_named_with_their_system() {
        assert_eq!(
            summary(
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
            ),
            "Chrome on Linux"
        );
        assert_eq!(
            summary(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
            ),
            "Firefox on Windows"
        );
        assert_eq!(
            summary(
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"
            ),
            "Safari on macOS"
        );
        assert_eq!(
            summary(
                "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
            ),
            "Chrome on ChromeOS"
        );
    }

    #[test]
    fn chromium_based_browsers_are_not_taken_for_chrome() {
        assert_eq!(
            summary(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87"
            ),
            "Edge on Windows"
        );
        assert_eq!(
            summary(
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 OPR/111.0.0.0"
            ),
            "Opera on Linux"
        );
        assert_eq!(
            summary(
                "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36"
            ),
            "Samsung Internet on Android"
        );
    }

    #[test]
    fn phones_are_not_taken_for_their_desktop_relatives() {
        assert_eq!(
            summary(
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36"
            ),
            "Chrome on Android"
        );
        assert_eq!(
            summary(
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
            ),
            "Safari on iOS"
        );
        assert_eq!(
            summary(
                "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1"
            ),
            "Chrome on iPadOS"
        );
        assert_eq!(
            summary(
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/127.0 Mobile/15E148 Safari/605.1.15"
            ),
            "Firefox on iOS"
        );
    }

    #[test]
    fn tools_and_the_unrecognised_get_what_can_be_told() {
        assert_eq!(summary("curl/8.5.0"), "curl");
        assert_eq!(
            summary("Mozilla/5.0 (X11; Linux x86_64)"),
            "Unknown browser on Linux"
        );
        assert_eq!(summary("my-script/1.0"), "Unknown device");
        assert_eq!(summary(""), "Unknown device");
        assert_eq!(device(None), "Unknown device");
    }

    #[test]
    fn the_summary_is_one_of_a_few_fixed_names_whatever_was_sent() {
        let hostile = format!("<script>{}</script> Firefox/1", "A".repeat(10_000));
        assert_eq!(summary(&hostile), "Firefox");
    }

    #[test]
    fn the_state_keeps_a_bounded_user_agent_and_the_address() {
        let meta = Meta {
            ip: Some("203.0.113.7".into()),
            user_agent: Some(format!("{}é", "x".repeat(bounded::USER_AGENT - 1))),
        };
        let entries = origin_entries(&meta);
        let ua = &entries
            .iter()
            .find(|(k, _)| *k == STATE_USER_AGENT)
            .unwrap()
            .1;
        assert_eq!(
            ua.len(),
            bounded::USER_AGENT - 1,
            "cut on a character boundary"
        );
        assert_eq!(
            entries.iter().find(|(k, _)| *k == STATE_IP).unwrap().1,
            "203.0.113.7"
        );
        assert!(origin_entries(&Meta::default()).is_empty());
    }
}
