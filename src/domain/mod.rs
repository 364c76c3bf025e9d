//! Rules and types of Portcullis. Nothing here knows about HTTP or SQL: handlers call these
//! functions, and these functions call `storage` for persistence.

pub mod accounts;
pub mod password;
pub mod return_to;
pub mod user;
