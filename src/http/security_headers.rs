//! Headers every response carries. The CSP allows no inline script or style: the pages load only
//! `/static/` files. `form-action` is left open because the consent form legitimately ends in a
//! redirect to a third-party app, and a `response_mode=form_post` answer is a form posted to it.
//! Nothing is cached unless it says so: secrets are shown on pages and in JSON answers all over,
//! so `Cache-Control: no-store` is the default, and only public, secret-free responses (static
//! files, discovery, JWKS) set a caching policy of their own.

use actix_web::middleware::DefaultHeaders;

/// Default security headers; HSTS only when the public URL is https.
pub fn default_headers(https: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
        ))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
        .add(("Cache-Control", "no-store"));
    if https {
        headers.add((
            "Strict-Transport-Security",
            "max-age=63072000; includeSubDomains",
        ))
    } else {
        headers
    }
}
