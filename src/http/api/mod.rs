//! The REST API (`/v1`, `/api`): JSON in, JSON out, errors in the house shape
//! `{"error":{"code","message","status"}}`.

pub mod bearer;
pub mod users;
