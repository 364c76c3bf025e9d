//! Middleware around the browser sessions: when the session store could not reach the database,
//! actix-session answers a bare 500 before any handler runs. This turns that answer into the
//! 503 with `Retry-After` that the route's own error type gives for the same outage: the REST
//! shape, the RFC 6749 shape on the token, revocation and introspection endpoints, or the error
//! page. Any other failure passes through untouched.

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use super::error::{ApiError, PageError};
use super::oauth::error::OAuthError;
use crate::error::AppError;
use crate::runtime::outage;

/// Which error shape a path answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Area {
    /// RFC 6749 §5.2 JSON.
    OAuth,
    /// `{"error":{"code","message","status"}}`.
    Rest,
    /// `error.html`.
    Page,
}

impl Area {
    fn of(path: &str) -> Self {
        const OAUTH: [&str; 3] = ["/oauth/token", "/oauth/revoke", "/oauth/introspect"];
        const REST: [&str; 5] = ["/api/", "/v1/", "/auth/", "/user/", "/oauth/userinfo"];
        if OAUTH.contains(&path) {
            Self::OAuth
        } else if REST.iter().any(|prefix| path.starts_with(prefix)) {
            Self::Rest
        } else {
            Self::Page
        }
    }

    fn unavailable(self) -> Error {
        let err = AppError::Unavailable(anyhow::anyhow!("the session store could not be reached"));
        match self {
            Self::OAuth => OAuthError::from(err).into(),
            Self::Rest => ApiError::from(err).into(),
            Self::Page => PageError::from(err).into(),
        }
    }
}

/// Answers 503 in the route's shape when the session store noted an outage and failed.
pub async fn session_store_outage(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let area = Area::of(req.path());
    match outage::watch(next.call(req)).await {
        (Err(_), true) => Err(area.unavailable()),
        (out, _) => out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_path_answers_in_its_own_shape() {
        assert_eq!(Area::of("/oauth/token"), Area::OAuth);
        assert_eq!(Area::of("/oauth/introspect"), Area::OAuth);
        assert_eq!(Area::of("/oauth/userinfo"), Area::Rest);
        assert_eq!(Area::of("/api/v1/active/api-keys"), Area::Rest);
        assert_eq!(Area::of("/v1/users/me"), Area::Rest);
        assert_eq!(Area::of("/oauth/authorize"), Area::Page);
        assert_eq!(Area::of("/settings/sessions"), Area::Page);
        assert_eq!(Area::of("/"), Area::Page);
    }
}
