//! Redirect URIs: what may be registered, and how a requested URI is matched.
//!
//! Registration accepts `https` URIs, or `http` on a loopback address only (RFC 8252 §7.3), with
//! no fragment (RFC 6749 §3.1.2); post-logout redirect URIs (OpenID Connect RP-Initiated Logout
//! 1.0 §3.1) follow the same rules. Matching is exact string comparison, except that for loopback
//! URIs the port may differ (RFC 8252 §7.3: native apps listen on an ephemeral port).

use url::{Host, Url};

use crate::error::{AppError, Result};

/// Validates a URI for registration and returns it unchanged.
pub fn validate(raw: &str) -> Result<String> {
    validate_as(raw, "redirect_uri")
}

/// `validate`, naming `field` in the error (a post-logout redirect URI, say).
pub fn validate_as(raw: &str, field: &'static str) -> Result<String> {
    let bad = |why: &str| AppError::validation(field, format!("{raw}: {why}"));
    let url = Url::parse(raw).map_err(|_| bad("not an absolute URL"))?;
    if url.fragment().is_some() || raw.contains('#') {
        return Err(bad("must not contain a fragment"));
    }
    if url.username() != "" || url.password().is_some() {
        return Err(bad("must not contain credentials"));
    }
    match url.scheme() {
        "https" if url.host().is_some() => Ok(raw.to_owned()),
        "http" if is_loopback(&url) => Ok(raw.to_owned()),
        "http" => Err(bad(
            "http is allowed only on loopback (127.0.0.1, [::1], localhost)",
        )),
        _ => Err(bad("must use https")),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

/// Whether `requested` matches the registered URI `registered`.
pub fn matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    let (Ok(reg), Ok(req)) = (Url::parse(registered), Url::parse(requested)) else {
        return false;
    };
    if reg.scheme() != "http" || !is_loopback(&reg) || requested.contains('#') {
        return false;
    }
    // Loopback: everything but the port must be identical.
    reg.scheme() == req.scheme()
        && reg.host() == req.host()
        && reg.path() == req.path()
        && reg.query() == req.query()
        && req.username().is_empty()
        && req.password().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_and_loopback_http_are_accepted() {
        for ok in [
            "https://app.example/cb",
            "http://127.0.0.1/cb",
            "http://[::1]:8000/cb",
            "http://localhost:3000/callback?x=1",
        ] {
            assert!(validate(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn other_uris_are_refused() {
        for bad in [
            "http://app.example/cb",
            "https://app.example/cb#frag",
            "ftp://x/cb",
            "/relative",
            "https://u:p@app.example/cb",
            "javascript:alert(1)",
        ] {
            assert!(validate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn matching_is_exact() {
        let reg = "https://app.example/cb";
        assert!(matches(reg, reg));
        for other in [
            "https://app.example/cb/",
            "https://app.example/CB",
            "https://app.example/cb?x=1",
            "https://app.example:444/cb",
            "https://app.example/cb#x",
        ] {
            assert!(!matches(reg, other), "{other}");
        }
    }

    #[test]
    fn loopback_matches_any_port_only() {
        let reg = "http://127.0.0.1/cb";
        assert!(matches(reg, "http://127.0.0.1:53211/cb"));
        assert!(!matches(reg, "http://127.0.0.1:53211/other"));
        assert!(!matches(reg, "http://localhost:53211/cb"));
        assert!(!matches(
            "https://127.0.0.1/cb",
            "https://127.0.0.1:8443/cb"
        ));
    }
}
