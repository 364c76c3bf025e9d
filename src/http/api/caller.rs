//! The API's authentication: `Authorization: Bearer <x>`, where `x` is an access token (JWT) or
//! any long-lived Portcullis credential. Yields a `Principal` whatever was presented.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use crate::domain::credential;
use crate::domain::credentials::Refusal;
use crate::domain::principal::Principal;
use crate::domain::tokens::BearerError;
use crate::http::error::ApiError;
use crate::state::AppState;

/// The authenticated caller and their address.
pub struct Caller {
    /// Who is calling.
    pub principal: Principal,
    /// The client address (from the socket).
    pub ip: Option<IpAddr>,
}

/// The bearer value of the Authorization header, if any.
pub fn bearer_value(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// The caller's IP address.
pub fn client_ip(req: &HttpRequest) -> Option<IpAddr> {
    req.peer_addr().map(|a| a.ip())
}

/// The REST answer for a refused credential.
pub fn refusal_error(r: Refusal) -> ApiError {
    match r {
        Refusal::Invalid => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "authentication_failed",
            "Invalid API key provided",
        ),
        Refusal::Revoked => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "authentication_failed",
            "This credential has been revoked",
        ),
        Refusal::Expired => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "token_expired",
            "This credential has expired",
        ),
        Refusal::IpNotAllowed => ApiError::new(
            StatusCode::FORBIDDEN,
            "ip_not_allowed",
            "Requests from this IP address are not allowed for this credential",
        ),
        Refusal::Failed(e) => e.into(),
    }
}

/// Authenticates a bearer value.
pub async fn authenticate(
    state: &AppState,
    token: &str,
    ip: Option<IpAddr>,
) -> Result<Principal, ApiError> {
    if credential::check(token).is_ok() || looks_like_credential(token) {
        return match state.credentials.verify(token, ip).await {
            Ok(c) => Ok(Principal::from_credential(&c)),
            Err(r) => Err(refusal_error(r)),
        };
    }
    match state.tokens.verify_bearer(token).await {
        Ok(claims) => Ok(Principal::from_claims(&claims)),
        Err(BearerError::Expired) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "token_expired",
            "The access token has expired",
        )),
        Err(BearerError::Invalid) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "authentication_failed",
            "Invalid access token provided",
        )),
    }
}

/// A damaged credential (bad checksum, truncated) still has a credential prefix: say "invalid
/// API key" rather than "invalid access token".
fn looks_like_credential(token: &str) -> bool {
    credential::Kind::ALL
        .iter()
        .any(|k| token.starts_with(k.prefix()))
        && !token.contains('.')
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_value(req);
        let ip = client_ip(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| {
                ApiError::from(crate::error::AppError::internal(anyhow::anyhow!(
                    "no state"
                )))
            })?;
            let token = token.ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "authentication_failed",
                    "Send a credential as `Authorization: Bearer <token>`",
                )
            })?;
            let principal = authenticate(&state, &token, ip).await?;
            Ok(Caller { principal, ip })
        })
    }
}
