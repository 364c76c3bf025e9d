//! Accounts.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, sea_query::Expr,
};

use super::UniqueExt;
use super::entity::users;
use super::{Db, map_err};
use crate::domain::password::PasswordHash;
use crate::domain::user::{DisplayName, Email, User};
use crate::error::{AppError, Result};

fn to_domain(m: users::Model) -> User {
    User {
        id: m.id,
        email: m.email,
        name: m.name,
        is_admin: m.is_admin,
        email_verified: m.email_verified,
        created_at: m.created_at,
        updated_at: m.updated_at,
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
