//! `GET /v1/users/me`.

use super::views::{ErrorBody, MeData, MeResponse};
use actix_web::{HttpResponse, web};

use super::caller::Caller;
use crate::http::error::ApiError;
use crate::state::AppState;

/// The account the caller acts for, whatever credential it presented.
#[utoipa::path(get, path = "/v1/users/me", tag = "Users",
    responses((status = 200, body = MeResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, description = "Too many requests with this credential: retry after `Retry-After` seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn me_get(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let user = state.ctx.policy().own_account(&caller.principal).await?;
    Ok(HttpResponse::Ok().json(MeResponse {
        data: MeData {
            id: user.public_id(),
            email: user.email,
            name: user.name,
        },
    }))
}
