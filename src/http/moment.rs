//! A moment as pages show it: relative ("3 days ago", "in 2 hours") with the exact UTC time
//! on hover and in the markup (`<time datetime title>`), as GitHub and Stripe show theirs.

use crate::domain::credentials::format_time;

/// One moment, ready for `<time datetime="{iso}" title="{exact}">{relative}</time>`.
pub struct Moment {
    /// "3 days ago", "in 2 hours", "just now".
    pub relative: String,
    /// "2026-12-01 13:18 UTC".
    pub exact: String,
    /// RFC 3339.
    pub iso: String,
}

impl Moment {
    /// `at` seen from `now` (Unix seconds).
    pub fn new(at: i64, now: i64) -> Self {
        let iso = format_time(at);
        let exact = iso.replace('T', " ").replace('Z', " UTC");
        Self {
            relative: relative(at, now),
            exact,
            iso,
        }
    }
}

fn relative(at: i64, now: i64) -> String {
    let diff = at - now;
    let secs = diff.unsigned_abs();
    if secs < 60 {
        return "just now".into();
    }
    let (n, unit) = [
        (365 * 86_400, "year"),
        (30 * 86_400, "month"),
        (86_400, "day"),
        (3_600, "hour"),
        (60, "minute"),
    ]
    .into_iter()
    .find(|(size, _)| secs >= *size)
    .map_or((secs, "second"), |(size, unit)| (secs / size, unit));
    let plural = if n == 1 { "" } else { "s" };
    if diff < 0 {
        format!("{n} {unit}{plural} ago")
    } else {
        format!("in {n} {unit}{plural}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_and_future_read_naturally() {
        let now = 1_800_000_000;
        assert_eq!(relative(now - 10, now), "just now");
        assert_eq!(relative(now - 3 * 86_400, now), "3 days ago");
        assert_eq!(relative(now + 7_200, now), "in 2 hours");
        assert_eq!(relative(now - 61, now), "1 minute ago");
        assert_eq!(relative(now + 400 * 86_400, now), "in 1 year");
        let m = Moment::new(now, now);
        assert!(m.exact.ends_with(" UTC") && m.iso.ends_with('Z'));
    }
}
