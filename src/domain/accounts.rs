//! Creating accounts and signing in.

use crate::domain::password::{self, PasswordHash};
use crate::domain::user::{DisplayName, Email, User};
use crate::error::{AppError, Result};
use crate::runtime::cache::Caches;
use crate::secret::Password;
use crate::storage::{self, Db};

/// What a sign-up form or `portcullis user create` supplies.
#[derive(Debug)]
pub struct NewAccount {
    /// Raw email as typed.
    pub email: String,
    /// Raw display name as typed.
    pub name: String,
    /// The chosen password.
    pub password: Password,
}

/// Who may create an account through the public sign-up page.
#[derive(Debug, Clone, Copy)]
pub enum SignupPolicy {
    /// Anyone.
    Open,
    /// Only the very first account (which becomes the administrator).
    FirstAccountOnly,
}

/// Marks that the first account, the administrator, has been handed out.
const FIRST_ACCOUNT: &str = "first_account_claimed";

/// Creates an account from the sign-up page. The first account ever created is an administrator:
/// of simultaneous first sign-ups exactly one claims that, the others are ordinary accounts (or,
/// with sign-up closed, refused).
pub async fn sign_up(db: &Db, policy: SignupPolicy, input: NewAccount) -> Result<User> {
    // Refuse bad input before claiming anything.
    Email::parse(&input.email)?;
    DisplayName::parse(&input.name)?;
    password::validate(&input.password)?;
    let first = storage::users::count_users(db).await? == 0
        && storage::secrets::claim(db, FIRST_ACCOUNT).await?;
    if !first && matches!(policy, SignupPolicy::FirstAccountOnly) {
        return Err(AppError::Forbidden(
            "Sign-up is closed on this server. Ask an administrator for an account.".into(),
        ));
    }
    let created = create(db, input, first).await;
    if first && created.is_err() {
        storage::secrets::release(db, FIRST_ACCOUNT).await?;
    }
    created
}

/// Creates an account directly (administrators, the CLI).
pub async fn create(db: &Db, input: NewAccount, is_admin: bool) -> Result<User> {
    let email = Email::parse(&input.email)?;
    let name = DisplayName::parse(&input.name)?;
    password::validate(&input.password)?;
    let hash = password::hash(input.password).await?;
    let user = storage::users::insert_user(db, &email, &name, &hash, is_admin).await?;
    crate::domain::tenant::personal(db, &user).await?;
    Ok(user)
}

/// Checks an email and password. Every failure (malformed email, unknown account, wrong
/// password) is the same `Unauthenticated` error and costs one argon2 verification, so the
/// answer reveals nothing about which accounts exist.
pub async fn sign_in(db: &Db, email: &str, password: Password) -> Result<User> {
    let found = match Email::parse(email) {
        Ok(email) => storage::users::find_with_hash_by_email(db, &email).await?,
        Err(_) => None,
    };
    let (user, hash): (Option<User>, Option<PasswordHash>) = match found {
        Some((user, hash)) => (Some(user), Some(hash)),
        None => (None, None),
    };
    if password::verify(password, hash).await?
        && let Some(user) = user
    {
        return Ok(user);
    }
    Err(AppError::Unauthenticated(
        "Incorrect email or password.".into(),
    ))
}

/// The account behind a public id (`usr_…`), if any.
pub async fn find_by_public_id(db: &Db, public_id: &str) -> Result<Option<User>> {
    match User::id_from_public(public_id) {
        Some(id) => storage::users::find_user(db, &id).await,
        None => Ok(None),
    }
}

/// The account with this id, if any.
pub async fn find(db: &Db, id: &str) -> Result<Option<User>> {
    storage::users::find_user(db, id).await
}

/// Like `find`, from the cache when the account was read recently (see `runtime::cache`).
pub async fn find_cached(db: &Db, caches: &Caches, id: &str) -> Result<Option<User>> {
    caches
        .users()
        .get_or_load(id, storage::users::find_user(db, id))
        .await
}

/// The account with this email, if any (malformed emails have none).
pub async fn find_by_email(db: &Db, email: &str) -> Result<Option<User>> {
    match Email::parse(email) {
        Ok(e) => Ok(storage::users::find_with_hash_by_email(db, &e)
            .await?
            .map(|(u, _)| u)),
        Err(_) => Ok(None),
    }
}
