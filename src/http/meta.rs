//! Where a request comes from: the client address (the socket's, or, behind a configured proxy,
//! the nearest untrusted address in `X-Forwarded-For`) and the user agent, for audit events,
//! throttles and IP allowlists.

use std::future::{Ready, ready};
use std::net::IpAddr;

use actix_web::http::header::USER_AGENT;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use ipnet::IpNet;

use crate::domain::audit::Meta;
use crate::state::AppState;

/// The client address of a request: every `X-Forwarded-For` line, joined in order, walked by
/// `resolve_client`.
pub fn client_ip_with(req: &HttpRequest, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let lines = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok());
    Some(resolve_client(peer, lines, trusted))
}

/// Where a request comes from. `X-Forwarded-For` counts only when the socket peer is a trusted
/// proxy; then its hops (all header lines, in order) are walked from the right while each hop is
/// itself a trusted proxy. The first hop that is not trusted is the client. A hop that does not
/// parse (`unknown`, garbage) ends the walk at the last trusted proxy: anything left of it could
/// have been written by the client. Hops with a port (`192.0.2.1:443`, `[2001:db8::1]:443`) are
/// read without it.
pub fn resolve_client<'a>(
    peer: IpAddr,
    lines: impl Iterator<Item = &'a str>,
    trusted: &[IpNet],
) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = lines.flat_map(|l| l.split(',')).collect();
    let mut nearest = peer;
    for hop in hops.into_iter().rev() {
        let hop = hop.trim();
        if hop.is_empty() {
            continue;
        }
        match parse_hop(hop) {
            Some(ip) if is_trusted(&ip) => nearest = ip,
            Some(ip) => return ip,
            None => return nearest,
        }
    }
    nearest
}

/// One `X-Forwarded-For` hop: an address, with or without a port.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Ok(sock) = hop.parse::<std::net::SocketAddr>() {
        return Some(sock.ip().to_canonical());
    }
    // `[2001:db8::1]` without a port.
    hop.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .and_then(|h| h.parse::<IpAddr>().ok())
        .map(|ip| ip.to_canonical())
}

/// The client address under the server's proxy settings.
pub fn client_ip(req: &HttpRequest) -> Option<IpAddr> {
    let trusted = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.settings.trusted_proxies.as_slice())
        .unwrap_or_default();
    client_ip_with(req, trusted)
}

/// Audit metadata of a request.
pub fn meta(req: &HttpRequest) -> Meta {
    Meta {
        ip: client_ip(req).map(|i| i.to_string()),
        user_agent: req
            .headers()
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    }
}

/// Extractor for `meta`.
pub struct RequestMeta(pub Meta);

impl FromRequest for RequestMeta {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self(meta(req))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn trusted() -> Vec<IpNet> {
        vec!["10.0.0.0/8".parse().unwrap(), "fd00::/8".parse().unwrap()]
    }

    fn walk(peer: &str, lines: &[&str]) -> IpAddr {
        resolve_client(ip(peer), lines.iter().copied(), &trusted())
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        assert_eq!(walk("198.51.100.1", &["203.0.113.9"]), ip("198.51.100.1"));
    }

    #[test]
    fn every_header_line_is_walked_from_the_right() {
        // The client spoofed the first line; the proxy appended the real address on a second.
        assert_eq!(
            walk("10.0.0.1", &["1.2.3.4", "203.0.113.9"]),
            ip("203.0.113.9")
        );
        assert_eq!(
            walk("10.0.0.1", &["1.2.3.4, 203.0.113.9", "10.0.0.2"]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn hops_with_ports_are_read_without_them() {
        assert_eq!(
            walk("10.0.0.1", &["1.2.3.4, 203.0.113.9:4711"]),
            ip("203.0.113.9")
        );
        assert_eq!(
            walk("10.0.0.1", &["1.2.3.4, [2001:db8::7]:443"]),
            ip("2001:db8::7")
        );
        assert_eq!(walk("10.0.0.1", &["[2001:db8::7]"]), ip("2001:db8::7"));
    }

    #[test]
    fn an_unparsable_hop_ends_the_walk_at_the_last_trusted_proxy() {
        assert_eq!(walk("10.0.0.1", &["203.0.113.9, unknown"]), ip("10.0.0.1"));
        assert_eq!(
            walk("10.0.0.1", &["203.0.113.9, garbage, 10.0.0.2"]),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn only_trusted_hops_leave_the_leftmost_of_them() {
        assert_eq!(walk("10.0.0.1", &["10.0.0.3, 10.0.0.2"]), ip("10.0.0.3"));
        assert_eq!(walk("10.0.0.1", &[]), ip("10.0.0.1"));
    }

    fn hop() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<[u8; 4]>().prop_map(|b| std::net::Ipv4Addr::from(b).to_string()),
            any::<u8>().prop_map(|b| format!("10.0.0.{b}")),
            any::<[u16; 8]>().prop_map(|s| format!("[{}]:80", std::net::Ipv6Addr::from(s))),
            Just("unknown".to_owned()),
            "[ -~]{0,12}",
        ]
    }

    proptest! {
        /// Whatever the hops, the answer is the peer or an address written at or right of the
        /// first untrusted or unparsable hop seen from the right — never one further left.
        #[test]
        fn the_walk_never_reaches_left_of_the_first_untrusted_hop(
            hops in proptest::collection::vec(hop(), 0..8),
            split in 0usize..8,
        ) {
            let split = split.min(hops.len());
            let (first, second) = hops.split_at(split);
            let lines = [first.join(","), second.join(",")];
            let got = resolve_client(ip("10.0.0.1"), lines.iter().map(String::as_str), &trusted());
            let all: Vec<&str> = lines.iter().flat_map(|l| l.split(',')).map(str::trim)
                .filter(|h| !h.is_empty()).collect();
            let mut expected = ip("10.0.0.1");
            for h in all.iter().rev() {
                match parse_hop(h) {
                    Some(a) if trusted().iter().any(|n| n.contains(&a)) => expected = a,
                    Some(a) => { expected = a; break; }
                    None => break,
                }
            }
            prop_assert_eq!(got, expected);
            // Never an address that only appears left of the decisive hop.
            let decisive = all.iter().rposition(|h| {
                parse_hop(h).is_none_or(|a| !trusted().iter().any(|n| n.contains(&a)))
            });
            if let Some(d) = decisive {
                let right: Vec<IpAddr> = all[d..].iter().filter_map(|h| parse_hop(h)).collect();
                prop_assert!(got == ip("10.0.0.1") || right.contains(&got));
            }
        }
    }
}
