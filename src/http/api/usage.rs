//! `GET /api/v1/credentials/{id}/usage`: a credential's requests and failures per hour (the
//! last 48) and per day (the last 30), for its holder and its tenant's administrators.

use actix_web::{HttpResponse, web};

use super::caller::Caller;
use super::views::ErrorBody;
use crate::domain::usage::{self, Report};
use crate::http::error::ApiError;
use crate::state::AppState;

/// A credential's usage over time.
#[utoipa::path(get, path = "/api/v1/credentials/{id}/usage", tag = "Credentials",
    params(("id" = String, Path, description = "The credential's id")),
    responses((status = 200, body = Report), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "Too many requests with this credential: retry after `Retry-After` seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn credential_usage_get(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let report = usage::of_credential(&state.ctx, &caller.principal, &path).await?;
    Ok(HttpResponse::Ok().json(report))
}
