//! While a person must set up a second factor (the server requires one and they signed in
//! without), every page and the authorization endpoint send them to Settings → Security; what
//! they need to enrol, sign out and load the page's assets still works. The mark is in the
//! session (`session::require_enrolment`), so no request pays a database read for this.

use actix_session::SessionExt;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use super::pages::see_other;
use super::session;

/// Paths that stay open while enrolment is due: the enrolment itself, signing out, static
/// assets, and what machines call (health, discovery, the token, API and metrics endpoints),
/// which a browser session does not govern.
fn open_while_enrolling(path: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "/settings/security",
        "/signout",
        "/static/",
        "/healthz",
        "/livez",
        "/.well-known/",
        "/v1/",
        "/metrics",
    ];
    PREFIXES.iter().any(|p| path.starts_with(p))
        || (path.starts_with("/oauth/") && path != "/oauth/authorize")
}

/// Middleware: the redirect to enrolment.
pub async fn enrol_gate(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if !open_while_enrolling(req.path()) && session::must_enrol(&req.get_session()) {
        let res = see_other("/settings/security");
        return Ok(req.into_response(res).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_enrolment_sign_out_assets_and_machine_endpoints_stay_open() {
        for open in [
            "/settings/security",
            "/settings/security/totp/confirm",
            "/signout",
            "/static/app.css",
            "/oauth/token",
            "/.well-known/openid-configuration",
        ] {
            assert!(open_while_enrolling(open), "{open}");
        }
        for closed in [
            "/",
            "/account",
            "/oauth/authorize",
            "/settings/password",
            "/admin/people",
        ] {
            assert!(!open_while_enrolling(closed), "{closed}");
        }
    }
}
