//! Single-use links mailed to a person, kept as keyed hashes: issuing replaces the person's
//! older link of the same purpose, and taking one deletes it, so a link works once.

use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};

use super::entity::email_tokens;
use super::{Db, UniqueExt, map_err};
use crate::domain::email_tokens::{EmailToken, Purpose};
use crate::error::Result;

fn to_domain(m: email_tokens::Model) -> Option<EmailToken> {
    Some(EmailToken {
        user_id: m.user_id,
        purpose: Purpose::parse(&m.purpose)?,
        email: m.email,
        expires_at: m.expires_at,
    })
}

/// Stores a link's hash for `token`, replacing any older one of the person for its purpose.
pub async fn replace(db: &Db, token_hash: &str, token: &EmailToken, at: i64) -> Result<()> {
    let tx = db.begin().await.map_err(map_err)?;
    email_tokens::Entity::delete_many()
        .filter(email_tokens::Column::UserId.eq(&token.user_id))
        .filter(email_tokens::Column::Purpose.eq(token.purpose.as_str()))
        .exec(&tx)
        .await
        .map_err(map_err)?;
    email_tokens::Entity::insert(email_tokens::ActiveModel {
        token_hash: Set(token_hash.to_owned()),
        user_id: Set(token.user_id.clone()),
        purpose: Set(token.purpose.as_str().to_owned()),
        email: Set(token.email.clone()),
        created_at: Set(at),
        expires_at: Set(token.expires_at),
    })
    .exec_without_returning(&tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)
}

/// The unexpired link of `purpose` with this hash, if any.
pub async fn find(
    db: &Db,
    purpose: Purpose,
    token_hash: &str,
    now: i64,
) -> Result<Option<EmailToken>> {
    let found = email_tokens::Entity::find_by_id(token_hash.to_owned())
        .filter(email_tokens::Column::Purpose.eq(purpose.as_str()))
        .filter(email_tokens::Column::ExpiresAt.gt(now))
        .unique(db)
        .await
        .map_err(map_err)?;
    Ok(found.and_then(to_domain))
}

/// Takes the unexpired link of `purpose` with this hash: deletes it and returns what it was,
/// once. Of two requests taking the same link at once, only one deletes it.
pub async fn take(
    db: &Db,
    purpose: Purpose,
    token_hash: &str,
    now: i64,
) -> Result<Option<EmailToken>> {
    let Some(found) = find(db, purpose, token_hash, now).await? else {
        return Ok(None);
    };
    let deleted = email_tokens::Entity::delete_by_id(token_hash.to_owned())
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok((deleted.rows_affected == 1).then_some(found))
}

/// Deletes every link mailed to the person, whatever its purpose (their address changed), in
/// the caller's transaction.
pub(crate) async fn delete_for_user_in(
    db: &impl sea_orm::ConnectionTrait,
    user_id: &str,
) -> Result<u64> {
    let res = email_tokens::Entity::delete_many()
        .filter(email_tokens::Column::UserId.eq(user_id))
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(res.rows_affected)
}

/// Deletes the person's link of `purpose`, if any.
pub async fn delete(db: &Db, user_id: &str, purpose: Purpose) -> Result<u64> {
    let res = email_tokens::Entity::delete_many()
        .filter(email_tokens::Column::UserId.eq(user_id))
        .filter(email_tokens::Column::Purpose.eq(purpose.as_str()))
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(res.rows_affected)
}
