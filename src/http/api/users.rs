//! `GET /v1/users/me`.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::caller::Caller;
use crate::domain::accounts;
use crate::error::AppError;
use crate::http::error::ApiError;
use crate::state::AppState;

/// `GET /v1/users/me`: the account the caller acts for, whatever credential it presented.
pub async fn me_get(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    caller.principal.require("read")?;
    let user = accounts::find(&state.db, caller.principal.user_id()?)
        .await?
        .ok_or(AppError::NotFound("User"))?;
    Ok(HttpResponse::Ok().json(json!({
        "data": {"id": user.public_id(), "email": user.email, "name": user.name}
    })))
}
