//! Charts drawn on the server as inline SVG: no script, no style attribute (the CSP forbids
//! both), colours as SVG presentation attributes. Every chart states its numbers in words, in
//! its `aria-label` and in a `<title>` per bar, so a screen reader and a test read what the
//! picture shows.

use std::fmt::Write as _;

use crate::domain::usage::Point;

const REQUEST_FILL: &str = "#2f6fd0";
const FAILURE_FILL: &str = "#b42318";

/// Escapes text for an SVG attribute or element.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn plural(n: i64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// A Unix time as a day (`2026-12-01`) or, with `hours`, an hour (`2026-12-01 13:00 UTC`).
pub fn when(unix: i64, hours: bool) -> String {
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp(unix) else {
        return String::new();
    };
    let day = time::macros::format_description!("[year]-[month]-[day]");
    let hour = time::macros::format_description!("[year]-[month]-[day] [hour]:00 UTC");
    t.format(if hours { hour } else { day }).unwrap_or_default()
}

/// A small line of requests per day (the lists' sparklines), labelled with the total and every
/// day's count.
pub fn sparkline(points: &[Point]) -> String {
    let (w, h) = (120.0_f64, 24.0_f64);
    let max = points.iter().map(|p| p.requests).max().unwrap_or(0).max(1) as f64;
    let step = w / (points.len().max(2) - 1) as f64;
    let mut line = String::new();
    for (i, p) in points.iter().enumerate() {
        let x = i as f64 * step;
        let y = h - 1.0 - (p.requests as f64 / max) * (h - 2.0);
        let _ = write!(line, "{x:.1},{y:.1} ");
    }
    let total: i64 = points.iter().map(|p| p.requests).sum();
    let failures: i64 = points.iter().map(|p| p.failures).sum();
    let days: Vec<String> = points.iter().map(|p| p.requests.to_string()).collect();
    let label = format!(
        "{} and {} in the last {} days; per day: {}",
        plural(total, "request", "requests"),
        plural(failures, "failure", "failures"),
        points.len(),
        days.join(", ")
    );
    format!(
        "<svg class=\"sparkline\" role=\"img\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
         aria-label=\"{l}\"><title>{l}</title><polyline fill=\"none\" stroke=\"{REQUEST_FILL}\" \
         stroke-width=\"1.5\" points=\"{pts}\"/></svg>",
        l = escape(&label),
        pts = line.trim_end()
    )
}

/// What a bar chart's bars count.
#[derive(Clone, Copy)]
pub enum Measure {
    /// Requests, with their failures drawn over them.
    Requests,
    /// Failure events only.
    Failures,
}

/// A bar per bucket: requests (failures drawn over them in red), or failures alone. `hours`
/// says whether the buckets are hours or days; `title` names the chart.
pub fn bars(points: &[Point], hours: bool, title: &str, measure: Measure) -> String {
    let (w, h) = (600.0_f64, 120.0_f64);
    let value = |p: &Point| match measure {
        Measure::Requests => p.requests,
        Measure::Failures => p.failures,
    };
    let max = points.iter().map(value).max().unwrap_or(0).max(1) as f64;
    let slot = w / points.len().max(1) as f64;
    let bar = (slot - 1.0).max(1.0);
    let mut body = String::new();
    for (i, p) in points.iter().enumerate() {
        let x = i as f64 * slot;
        let text = match measure {
            Measure::Requests => format!(
                "{}: {}, {}",
                when(p.start, hours),
                plural(p.requests, "request", "requests"),
                plural(p.failures, "failure", "failures")
            ),
            Measure::Failures => format!(
                "{}: {}",
                when(p.start, hours),
                plural(p.failures, "failure event", "failure events")
            ),
        };
        let _ = write!(body, "<g><title>{}</title>", escape(&text));
        let total = value(p) as f64 / max * h;
        let fill = match measure {
            Measure::Requests => REQUEST_FILL,
            Measure::Failures => FAILURE_FILL,
        };
        let _ = write!(
            body,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{total:.1}\" fill=\"{fill}\"/>",
            h - total
        );
        if matches!(measure, Measure::Requests) && p.failures > 0 {
            let failed = p.failures as f64 / max * h;
            let _ = write!(
                body,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{failed:.1}\" fill=\"{FAILURE_FILL}\"/>",
                h - failed
            );
        }
        body.push_str("</g>");
    }
    let requests: i64 = points.iter().map(|p| p.requests).sum();
    let failures: i64 = points.iter().map(|p| p.failures).sum();
    let totals = match measure {
        Measure::Requests => format!(
            "{}, {}",
            plural(requests, "request", "requests"),
            plural(failures, "failure", "failures")
        ),
        Measure::Failures => plural(failures, "failure event", "failure events"),
    };
    let label = format!("{title}: {totals}");
    format!(
        "<svg class=\"chart\" role=\"img\" width=\"100%\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
         preserveAspectRatio=\"none\" aria-label=\"{l}\"><title>{l}</title>{body}</svg>",
        l = escape(&label)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(start: i64, requests: i64, failures: i64) -> Point {
        Point {
            start,
            requests,
            failures,
        }
    }

    #[test]
    fn a_sparkline_states_its_total_and_every_days_count() {
        let svg = sparkline(&[p(0, 0, 0), p(86_400, 3, 1), p(172_800, 1, 0)]);
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(
            svg.contains(
                "aria-label=\"4 requests and 1 failure in the last 3 days; per day: 0, 3, 1\""
            ),
            "{svg}"
        );
        assert!(!svg.contains("style="), "no inline style: {svg}");
    }

    #[test]
    fn each_bar_names_its_hour_and_counts() {
        let svg = bars(&[p(3600, 2, 1)], true, "Last 48 hours", Measure::Requests);
        assert!(
            svg.contains("<title>1970-01-01 01:00 UTC: 2 requests, 1 failure</title>"),
            "{svg}"
        );
        assert!(
            svg.contains("aria-label=\"Last 48 hours: 2 requests, 1 failure\""),
            "{svg}"
        );
    }

    #[test]
    fn text_in_a_chart_is_escaped() {
        let svg = bars(&[], false, "<b>\"x\"", Measure::Failures);
        assert!(
            svg.contains("&lt;b&gt;&quot;x&quot;: 0 failure events"),
            "{svg}"
        );
    }
}
