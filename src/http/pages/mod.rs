//! Browser pages. Each handler extracts, calls one domain function and renders a template.

pub mod account;
pub mod auth;
