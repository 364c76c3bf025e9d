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

/// The client address; `X-Forwarded-For` counts only when the socket peer is a trusted proxy,
/// and then the rightmost address that is not itself a trusted proxy wins (anything left of it
/// could have been written by the client).
pub fn client_ip_with(req: &HttpRequest, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    if !trusted.iter().any(|n| n.contains(&peer)) {
        return Some(peer);
    }
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    forwarded
        .split(',')
        .rev()
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .find(|ip| !trusted.iter().any(|n| n.contains(ip)))
        .or(Some(peer))
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
