//! Client authentication at the token, revocation and introspection endpoints (and the
//! client-credentials login): a confidential client's secret, or during a rotation's overlap its
//! previous one; a public client's id alone. Clients are read through the cache.

use crate::domain::client::{Client, is_issued_id};
use crate::domain::secret_format::{self, Kind};
use crate::error::{AppError, Result};
use crate::runtime::cache::Caches;
use crate::secret::SecretHasher;
use crate::storage::{self, Db};

/// How a client authenticated at the token, revocation or introspection endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// HTTP Basic.
    Basic,
    /// `client_id`/`client_secret` in the form body.
    Post,
    /// Public client: `client_id` only.
    None,
}

/// Checks a client's credentials: a confidential client must present its secret (or, until
/// `now` passes the end of a rotation's overlap, its previous one), a public client must present
/// none. Every failure is the same `Unauthenticated`.
pub async fn authenticate(
    db: &Db,
    caches: &Caches,
    hasher: &SecretHasher,
    client_id: &str,
    secret: Option<&str>,
    now: i64,
) -> Result<Client> {
    let fail = || AppError::Unauthenticated("Client authentication failed.".into());
    // A malformed secret is refused before any lookup.
    if let Some(s) = secret
        && !matches!(
            secret_format::check(s),
            Ok(Kind::ClientSecret | Kind::SystemSecret)
        )
    {
        return Err(fail());
    }
    let client = find_cached(db, caches, client_id).await?.ok_or_else(fail)?;
    match (&client.secret_hash, secret) {
        (None, None) if client.is_public => Ok(client),
        (Some(hash), Some(secret)) if hasher.verify(secret, hash) => Ok(client),
        (Some(_), Some(secret)) if previous_accepts(&client, hasher, secret, now) => Ok(client),
        _ => Err(fail()),
    }
}

/// Whether `secret` is the client's previous secret and its overlap has not ended.
fn previous_accepts(client: &Client, hasher: &SecretHasher, secret: &str, now: i64) -> bool {
    client
        .previous_secret
        .as_ref()
        .is_some_and(|p| now < p.until && hasher.verify(secret, &p.hash))
}

/// The client with this id, from the cache when it was read recently (see `runtime::cache`).
/// An id of a shape this server never issues names no client and is not looked up.
pub async fn find_cached(db: &Db, caches: &Caches, client_id: &str) -> Result<Option<Client>> {
    if !is_issued_id(client_id) {
        return Ok(None);
    }
    caches
        .clients()
        .get_or_load(client_id, storage::clients::find_client(db, client_id))
        .await
}
