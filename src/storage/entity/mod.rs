//! sea-orm entities, private to `storage`: nothing outside this module sees a `Model`.

pub mod server_secrets;
pub mod sessions;
pub mod users;
