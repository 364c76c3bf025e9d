//! `Authorization: Bearer <access token>` for API routes.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use crate::domain::jwt::AccessClaims;
use crate::domain::tokens::BearerError;
use crate::http::error::ApiError;
use crate::state::AppState;

/// The verified claims of the request's bearer token.
pub struct Bearer(pub AccessClaims);

fn unauthenticated(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "authentication_failed", message)
}

impl FromRequest for Bearer {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(|t| t.trim().to_owned());
        Box::pin(async move {
            let state = state.ok_or_else(|| unauthenticated("Server misconfigured."))?;
            let token = token.ok_or_else(|| {
                unauthenticated("Send an access token as `Authorization: Bearer <token>`.")
            })?;
            match state.tokens.verify_bearer(&token).await {
                Ok(claims) => Ok(Bearer(claims)),
                Err(BearerError::Expired) => Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "token_expired",
                    "The access token has expired.",
                )),
                Err(BearerError::Invalid) => Err(unauthenticated("Invalid access token provided.")),
            }
        })
    }
}
