//! Reading and writing the plain values a credential's owner types or sees: expiry times
//! (ISO-8601 / RFC 3339, Unix seconds inside) and IP allowlists. Pure functions; the current
//! time comes in as an argument, never from the system clock.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::error::{AppError, Result};

/// Parses an ISO-8601 (RFC 3339) time that must lie in the future.
pub fn parse_future(field: &'static str, raw: &str, now: i64) -> Result<i64> {
    let t = time::OffsetDateTime::parse(raw.trim(), &time::format_description::well_known::Rfc3339)
        .or_else(|_| {
            time::OffsetDateTime::parse(
                raw.trim(),
                &time::format_description::well_known::Iso8601::DEFAULT,
            )
        })
        .map_err(|_| {
            AppError::validation(
                field,
                "Use an ISO-8601 date and time, e.g. 2030-12-31T23:59:59Z.",
            )
        })?;
    let at = t.unix_timestamp();
    if at <= now {
        return Err(AppError::validation(
            field,
            "The date must be in the future.",
        ));
    }
    Ok(at)
}

/// Formats Unix seconds as RFC 3339 UTC.
pub fn format_time(at: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Parses an allowlist: single addresses and CIDR ranges, IPv4 and IPv6.
pub fn parse_networks(raw: &[String]) -> Result<Vec<IpNet>> {
    raw.iter()
        .map(|s| {
            let s = s.trim();
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    AppError::validation(
                        "allowed_ips",
                        format!("Not an IP address or CIDR range: {s}"),
                    )
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn future_dates_are_required() {
        assert!(parse_future("f", "2999-01-01T00:00:00Z", 0).is_ok());
        assert!(parse_future("f", "2000-01-01T00:00:00Z", 1_900_000_000).is_err());
        assert!(parse_future("f", "tomorrow", 0).is_err());
    }

    #[test]
    fn the_present_moment_is_not_the_future() {
        let now = parse_future("f", "2030-01-01T00:00:00Z", 0).unwrap();
        assert!(parse_future("f", "2030-01-01T00:00:00Z", now).is_err());
        assert!(parse_future("f", "2030-01-01T00:00:01Z", now).is_ok());
    }

    #[test]
    fn formatted_times_parse_back_to_the_same_second() {
        let at = 1_900_000_000;
        assert_eq!(format_time(at), "2030-03-17T17:46:40Z");
        assert_eq!(parse_future("f", &format_time(at), at - 1).unwrap(), at);
    }

    #[test]
    fn networks_accept_addresses_and_ranges_of_both_families() {
        let nets = parse_networks(&[
            "10.0.0.0/8".into(),
            "192.0.2.7".into(),
            "2001:db8::/32".into(),
            "::1".into(),
        ])
        .unwrap();
        assert!(nets[0].contains(&"10.1.2.3".parse::<IpAddr>().unwrap()));
        assert!(nets[1].contains(&"192.0.2.7".parse::<IpAddr>().unwrap()));
        assert!(nets[2].contains(&"2001:db8::5".parse::<IpAddr>().unwrap()));
        assert!(parse_networks(&["10.0.0.0/33".into()]).is_err());
        assert!(parse_networks(&["example.com".into()]).is_err());
    }

    #[test]
    fn a_single_address_admits_only_itself() {
        let nets = parse_networks(&[" 192.0.2.7 ".into()]).unwrap();
        assert!(nets[0].contains(&"192.0.2.7".parse::<IpAddr>().unwrap()));
        assert!(!nets[0].contains(&"192.0.2.8".parse::<IpAddr>().unwrap()));
    }
}
