//! `GET /v1/users/me`.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::bearer::Bearer;
use crate::domain::accounts;
use crate::error::AppError;
use crate::http::error::ApiError;
use crate::state::AppState;

/// `GET /v1/users/me`: the account the token acts for.
pub async fn me_get(
    Bearer(claims): Bearer,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = accounts::find_by_public_id(&state.db, &claims.sub)
        .await?
        .ok_or(AppError::NotFound("User"))?;
    Ok(HttpResponse::Ok().json(json!({
        "data": {"id": user.public_id(), "email": user.email, "name": user.name}
    })))
}
