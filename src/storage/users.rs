//! Accounts, and replacing a password together with everything it let in.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, TransactionTrait, sea_query::Expr,
};

use super::UniqueExt;
use super::entity::users;
use super::{Db, map_err};
use crate::domain::password::PasswordHash;
use crate::domain::session_tokens::{SessionToken, Which};
use crate::domain::user::{DisplayName, Email, User};
use crate::error::{AppError, Result};

pub(super) fn to_domain(m: users::Model) -> User {
    User {
        id: m.id,
        email: m.email,
        name: m.name,
        is_admin: m.is_admin,
        email_verified: m.email_verified,
        created_at: m.created_at,
        updated_at: m.updated_at,
        disabled_at: m.disabled_at,
    }
}

/// Inserts an account; a taken email is `Conflict`.
pub async fn insert_user(
    db: &Db,
    email: &Email,
    name: &DisplayName,
    hash: &PasswordHash,
    is_admin: bool,
    at: i64,
) -> Result<User> {
    let model = users::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        email: Set(email.as_str().to_owned()),
        name: Set(name.as_str().to_owned()),
        password_hash: Set(hash.as_str().to_owned()),
        is_admin: Set(is_admin),
        email_verified: Set(false),
        active_tenant_id: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
        disabled_at: Set(None),
    }
    .insert(db)
    .await
    .map_err(|e| match map_err(e) {
        AppError::Conflict(_) => {
            AppError::Conflict("An account with that email already exists.".into())
        }
        other => other,
    })?;
    Ok(to_domain(model))
}

/// The account with this email and its password hash, if any.
pub async fn find_with_hash_by_email(
    db: &Db,
    email: &Email,
) -> Result<Option<(User, PasswordHash)>> {
    let found = users::Entity::find()
        .filter(users::Column::Email.eq(email.as_str()))
        .unique(db)
        .await
        .map_err(map_err)?;
    Ok(found.map(|m| {
        let hash = PasswordHash::from_stored(m.password_hash.clone());
        (to_domain(m), hash)
    }))
}

/// The account with this id, if any.
pub async fn find_user(db: &Db, id: &str) -> Result<Option<User>> {
    let found = users::Entity::find_by_id(id.to_owned())
        .unique(db)
        .await
        .map_err(map_err)?;
    Ok(found.map(to_domain))
}

/// The password hash of the account with this id, if any.
pub async fn find_hash(db: &Db, id: &str) -> Result<Option<PasswordHash>> {
    let found = users::Entity::find_by_id(id.to_owned())
        .unique(db)
        .await
        .map_err(map_err)?;
    Ok(found.map(|m| PasswordHash::from_stored(m.password_hash)))
}

/// What replacing a password ended.
#[derive(Debug)]
pub struct Replaced {
    /// Browser sessions ended (all but the kept one).
    pub sessions: u64,
    /// Session tokens revoked (every live one of the person).
    pub session_tokens: Vec<SessionToken>,
    /// Token families revoked (every live one of the person, whatever the app).
    pub token_families: u64,
}

/// Stores a new password hash and, in the same transaction, ends every other browser session of
/// the person (all but `keep_sid`), revokes every session token of theirs and every token family
/// apps hold for them.
pub async fn replace_password(
    db: &Db,
    user_id: &str,
    hash: &PasswordHash,
    keep_sid: Option<&str>,
    at: i64,
) -> Result<Replaced> {
    let tx = db.begin().await.map_err(map_err)?;
    let updated = users::Entity::update_many()
        .col_expr(users::Column::PasswordHash, Expr::value(hash.as_str()))
        .filter(users::Column::Id.eq(user_id))
        .exec(&tx)
        .await
        .map_err(map_err)?;
    if updated.rows_affected != 1 {
        tx.rollback().await.map_err(map_err)?;
        return Err(AppError::NotFound("Account"));
    }
    let sessions = super::sessions::delete_for_user_except(&tx, user_id, keep_sid).await?;
    let session_tokens = super::session_tokens::revoke_in(&tx, Which::User(user_id), at).await?;
    let token_families = super::tokens::revoke_every_family_of(&tx, user_id, at).await?;
    tx.commit().await.map_err(map_err)?;
    Ok(Replaced {
        sessions,
        session_tokens,
        token_families,
    })
}

/// The account with this (normalised) email, if any.
pub async fn find_user_by_email(db: &Db, email: &Email) -> Result<Option<User>> {
    Ok(find_with_hash_by_email(db, email).await?.map(|(u, _)| u))
}

/// Every account, oldest first.
pub async fn list_users(db: &Db) -> Result<Vec<User>> {
    let rows = users::Entity::find()
        .order_by_asc(users::Column::CreatedAt)
        .order_by_asc(users::Column::Id)
        .all(db)
        .await
        .map_err(map_err)?;
    Ok(rows.into_iter().map(to_domain).collect())
}

/// Records whether an account's email address is verified; the account counts as changed at
/// `at`.
pub async fn update_email_verified(db: &Db, id: &str, verified: bool, at: i64) -> Result<()> {
    users::Entity::update_many()
        .col_expr(users::Column::EmailVerified, Expr::value(verified))
        .col_expr(users::Column::UpdatedAt, Expr::value(at))
        .filter(users::Column::Id.eq(id))
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// Marks an account's address verified if it is still `email` (the address a link was mailed
/// to); whether it was.
pub async fn verify_email_if_current(db: &Db, id: &str, email: &str, at: i64) -> Result<bool> {
    let res = users::Entity::update_many()
        .col_expr(users::Column::EmailVerified, Expr::value(true))
        .col_expr(users::Column::UpdatedAt, Expr::value(at))
        .filter(users::Column::Id.eq(id))
        .filter(users::Column::Email.eq(email))
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(res.rows_affected == 1)
}

/// Gives an account a new, unverified address, and forgets every link mailed to the old one;
/// an address another account has is `Conflict`, as at sign-up.
pub async fn update_email(db: &Db, id: &str, email: &Email, at: i64) -> Result<()> {
    let tx = db.begin().await.map_err(map_err)?;
    let updated = users::Entity::update_many()
        .col_expr(users::Column::Email, Expr::value(email.as_str()))
        .col_expr(users::Column::EmailVerified, Expr::value(false))
        .col_expr(users::Column::UpdatedAt, Expr::value(at))
        .filter(users::Column::Id.eq(id))
        .exec(&tx)
        .await
        .map_err(|e| match map_err(e) {
            AppError::Conflict(_) => {
                AppError::Conflict("An account with that email already exists.".into())
            }
            other => other,
        })?;
    if updated.rows_affected != 1 {
        tx.rollback().await.map_err(map_err)?;
        return Err(AppError::NotFound("Account"));
    }
    super::email_tokens::delete_for_user_in(&tx, id).await?;
    tx.commit().await.map_err(map_err)
}

/// How many accounts exist.
pub async fn count_users(db: &Db) -> Result<u64> {
    users::Entity::find().count(db).await.map_err(map_err)
}

/// The tenant the person last chose to work in.
pub async fn find_active_tenant(db: &Db, user_id: &str) -> Result<Option<String>> {
    Ok(users::Entity::find_by_id(user_id.to_owned())
        .unique(db)
        .await
        .map_err(map_err)?
        .and_then(|u| u.active_tenant_id))
}

/// Records the tenant a person chose to work in.
pub async fn set_active_tenant(db: &Db, user_id: &str, tenant_id: &str) -> Result<()> {
    users::Entity::update_many()
        .col_expr(
            users::Column::ActiveTenantId,
            sea_orm::sea_query::Expr::value(tenant_id),
        )
        .filter(users::Column::Id.eq(user_id))
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(())
}
