//! The API's authentication: `Authorization: Bearer <x>`, where `x` is an access token (JWT) or
//! any long-lived Portcullis credential. Yields a `Principal` whatever was presented.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use crate::domain::credentials::Refusal;
use crate::domain::principal::Principal;
use crate::domain::secret_format;
use crate::domain::tokens::BearerError;
use crate::http::error::ApiError;
use crate::http::usage_count::UsageMark;
use crate::runtime::throttle::RateState;
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

/// The caller's IP address (see `http::meta`).
pub fn client_ip(req: &HttpRequest) -> Option<IpAddr> {
    crate::http::meta::client_ip(req)
}

/// The REST answer for a refused credential.
pub fn refusal_error(r: Refusal) -> ApiError {
    let challenge = match &r {
        Refusal::Failed(_) => None,
        Refusal::IpNotAllowed => Some("insufficient_scope"),
        _ => Some("invalid_token"),
    };
    let err = match r {
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
        Refusal::NotMember => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "authentication_failed",
            "The credential's owner is no longer a member of its tenant",
        ),
        Refusal::AccountDisabled => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "account_disabled",
            "The account this credential acts for is disabled",
        ),
        Refusal::Failed(e) => return e.into(),
    };
    err.bearer_challenge(challenge, None)
}

/// Authenticates a bearer value and narrows it by the policy (live membership, the credential
/// behind an exchanged token). Also says whose use the request counts as (`usage_count`); a
/// credential or app the policy refuses here counts a failed request at once.
pub async fn authenticate(
    state: &AppState,
    token: &str,
    ip: Option<IpAddr>,
) -> Result<(Principal, Option<UsageMark>), ApiError> {
    let presented = presented(state, token, ip).await?;
    let mark = UsageMark::of(&presented);
    match state.ctx.policy().effective(presented, ip).await {
        Ok(principal) => Ok((principal, mark)),
        Err(refusal) => {
            if let Some(mark) = mark {
                mark.count(state.ctx.usage(), true);
            }
            Err(refusal_error(refusal))
        }
    }
}

async fn presented(
    state: &AppState,
    token: &str,
    ip: Option<IpAddr>,
) -> Result<Principal, ApiError> {
    let credential = secret_format::check(token).is_ok_and(secret_format::Kind::is_credential);
    if credential || looks_like_credential(token) {
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
        )
        .bearer_challenge(Some("invalid_token"), None)),
        Err(BearerError::Invalid) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "authentication_failed",
            "Invalid access token provided",
        )
        .bearer_challenge(Some("invalid_token"), None)),
        // Not refused: the token may be valid (503 when the database cannot be reached).
        Err(BearerError::Unchecked(e)) => Err(e.into()),
    }
}

/// A damaged credential (bad checksum, truncated) still has a credential prefix: say "invalid
/// API key" rather than "invalid access token". Opaque access tokens (`at_`) are access tokens,
/// damaged or not.
fn looks_like_credential(token: &str) -> bool {
    secret_format::Kind::ALL
        .iter()
        .any(|k| k.is_credential() && token.starts_with(k.prefix()))
        && !token.contains('.')
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_value(req);
        let ip = client_ip(req);
        let req_ext = RateSlot(req.clone());
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
                // RFC 6750 §3.1: no error code when the request carried no token.
                .bearer_challenge(None, None)
            })?;
            let (principal, mark) = authenticate(&state, &token, ip).await?;
            if let Some(mark) = mark {
                mark.insert(&req_ext.0);
            }
            let rate = state
                .rate_limits
                .check(&principal.rate_key, state.credentials.clock())
                .await;
            if let Some(wait) = rate.retry_after {
                return Err(ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    format!("Too many requests: try again in {wait} s"),
                )
                .with_rate(rate));
            }
            req_ext.insert(rate);
            Ok(Caller { principal, ip })
        })
    }
}

/// Leaves the rate-limit state on the request for `rate_headers` to report.
struct RateSlot(HttpRequest);

impl RateSlot {
    fn insert(&self, rate: RateState) {
        use actix_web::HttpMessage;
        self.0.extensions_mut().insert(rate);
    }
}

/// Middleware: adds `X-RateLimit-*` to responses whose request was rate-checked.
pub async fn rate_headers(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    use actix_web::HttpMessage;
    // Read the state from the response's request: cloning the request before the inner services
    // run would stop the router from taking it apart.
    let mut res = next.call(req).await?;
    let rate = res.request().extensions().get::<RateState>().copied();
    if let Some(rate) = rate {
        for (name, value) in rate_header_values(&rate) {
            if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&value) {
                res.headers_mut()
                    .insert(actix_web::http::header::HeaderName::from_static(name), v);
            }
        }
    }
    Ok(res)
}

/// The `X-RateLimit-*` (and, when refused, `Retry-After`) headers of a state.
pub fn rate_header_values(rate: &RateState) -> Vec<(&'static str, String)> {
    let mut h = vec![
        ("x-ratelimit-limit", rate.limit.to_string()),
        ("x-ratelimit-remaining", rate.remaining.to_string()),
        ("x-ratelimit-reset", rate.reset.to_string()),
    ];
    if let Some(wait) = rate.retry_after {
        h.push(("retry-after", wait.to_string()));
    }
    h
}
