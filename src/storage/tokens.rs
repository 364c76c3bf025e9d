//! Authorization codes, token families, refresh tokens and revoked access-token ids. Every
//! secret is looked up by its keyed hash; single use is enforced with conditional updates, so
//! of any number of concurrent redemptions exactly one wins.

use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait,
    sea_query::{Expr, OnConflict},
};

use super::UniqueExt;
use super::entity::{auth_codes, refresh_tokens, revoked_access_tokens, token_families};
use super::{Db, map_err};
use crate::domain::auth_methods::AuthMethods;
use crate::domain::tokens::{CodeRecord, RefreshRecord};
use crate::error::Result;

/// Stores a code and creates the (empty) family its tokens will belong to.
pub async fn insert_code(db: &Db, code_hash: &str, code: &CodeRecord, at: i64) -> Result<()> {
    let tx = db.begin().await.map_err(map_err)?;
    token_families::Entity::insert(token_families::ActiveModel {
        id: Set(code.family_id.clone()),
        client_id: Set(code.client_id.clone()),
        user_id: Set(code.user_id.clone()),
        scope: Set(code.scope.clone()),
        created_at: Set(at),
        revoked_at: Set(None),
        auth_time: Set(code.auth_time()),
        sid: Set(code.sid()),
        auth_methods: Set(code.methods().and_then(|m| serde_json::to_string(&m).ok())),
    })
    .exec_without_returning(&tx)
    .await
    .map_err(map_err)?;
    auth_codes::Entity::insert(auth_codes::ActiveModel {
        code_hash: Set(code_hash.to_owned()),
        client_id: Set(code.client_id.clone()),
        user_id: Set(code.user_id.clone()),
        redirect_uri: Set(code.redirect_uri.clone()),
        scope: Set(code.scope.clone()),
        extensions: Set(code.extensions.clone()),
        expires_at: Set(code.expires_at),
        consumed_at: Set(None),
        family_id: Set(Some(code.family_id.clone())),
        created_at: Set(at),
    })
    .exec_without_returning(&tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)
}

/// What presenting a code found.
#[derive(Debug)]
pub enum CodeOutcome {
    /// First use: the code is now spent.
    Redeemed(CodeRecord),
    /// Already spent: a replay. Its family has been revoked.
    Replayed {
        /// The revoked family.
        family_id: String,
        /// The code's client.
        client_id: String,
        /// The code's user.
        user_id: String,
    },
    /// No such code.
    Unknown,
}

/// A code that has not been spent yet, without spending it.
pub async fn find_unspent_code(db: &Db, code_hash: &str) -> Result<Option<CodeRecord>> {
    let row = auth_codes::Entity::find_by_id(code_hash.to_owned())
        .filter(auth_codes::Column::ConsumedAt.is_null())
        .unique(db)
        .await
        .map_err(map_err)?;
    Ok(row.map(|row| CodeRecord {
        family_id: row.family_id.clone().unwrap_or_default(),
        client_id: row.client_id,
        user_id: row.user_id,
        redirect_uri: row.redirect_uri,
        scope: row.scope,
        extensions: row.extensions,
        expires_at: row.expires_at,
    }))
}

/// Spends a code. A second presentation revokes everything issued from the first.
pub async fn consume_code(db: &Db, code_hash: &str, at: i64) -> Result<CodeOutcome> {
    let claimed = auth_codes::Entity::update_many()
        .col_expr(auth_codes::Column::ConsumedAt, Expr::value(at))
        .filter(auth_codes::Column::CodeHash.eq(code_hash))
        .filter(auth_codes::Column::ConsumedAt.is_null())
        .exec(db)
        .await
        .map_err(map_err)?;
    let Some(row) = auth_codes::Entity::find_by_id(code_hash.to_owned())
        .unique(db)
        .await
        .map_err(map_err)?
    else {
        return Ok(CodeOutcome::Unknown);
    };
    let family_id = row.family_id.clone().unwrap_or_default();
    if claimed.rows_affected == 1 {
        return Ok(CodeOutcome::Redeemed(CodeRecord {
            client_id: row.client_id,
            user_id: row.user_id,
            redirect_uri: row.redirect_uri,
            scope: row.scope,
            extensions: row.extensions,
            expires_at: row.expires_at,
            family_id,
        }));
    }
    revoke_family(db, &family_id, at).await?;
    Ok(CodeOutcome::Replayed {
        family_id,
        client_id: row.client_id,
        user_id: row.user_id,
    })
}

/// Revokes a family: its refresh tokens stop working and its access tokens stop introspecting.
pub async fn revoke_family(db: &Db, family_id: &str, at: i64) -> Result<()> {
    token_families::Entity::update_many()
        .col_expr(token_families::Column::RevokedAt, Expr::value(at))
        .filter(token_families::Column::Id.eq(family_id))
        .filter(token_families::Column::RevokedAt.is_null())
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// Revokes every family of one person and client.
pub async fn revoke_families_of(db: &Db, user_id: &str, client_id: &str, at: i64) -> Result<u64> {
    let res = token_families::Entity::update_many()
        .col_expr(token_families::Column::RevokedAt, Expr::value(at))
        .filter(token_families::Column::UserId.eq(user_id))
        .filter(token_families::Column::ClientId.eq(client_id))
        .filter(token_families::Column::RevokedAt.is_null())
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(res.rows_affected)
}

/// Revokes every family of one client, whoever it was for (the client is being deleted).
pub async fn revoke_families_of_client(db: &Db, client_id: &str, at: i64) -> Result<u64> {
    let res = token_families::Entity::update_many()
        .col_expr(token_families::Column::RevokedAt, Expr::value(at))
        .filter(token_families::Column::ClientId.eq(client_id))
        .filter(token_families::Column::RevokedAt.is_null())
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(res.rows_affected)
}

/// Revokes every family of one person, whatever the client (a new password: every app must be
/// approved with it again). Returns how many were live.
pub async fn revoke_every_family_of(
    db: &impl ConnectionTrait,
    user_id: &str,
    at: i64,
) -> Result<u64> {
    let res = token_families::Entity::update_many()
        .col_expr(token_families::Column::RevokedAt, Expr::value(at))
        .filter(token_families::Column::UserId.eq(user_id))
        .filter(token_families::Column::RevokedAt.is_null())
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(res.rows_affected)
}

/// Whether a family is revoked (an unknown family counts as revoked).
pub async fn family_revoked(db: &Db, family_id: &str) -> Result<bool> {
    let row = token_families::Entity::find_by_id(family_id.to_owned())
        .unique(db)
        .await
        .map_err(map_err)?;
    Ok(row.is_none_or(|f| f.revoked_at.is_some()))
}

/// Stores a refresh token.
pub async fn insert_refresh(db: &Db, token_hash: &str, rec: &RefreshRecord, at: i64) -> Result<()> {
    refresh_tokens::Entity::insert(refresh_tokens::ActiveModel {
        token_hash: Set(token_hash.to_owned()),
        family_id: Set(rec.family_id.clone()),
        client_id: Set(rec.client_id.clone()),
        user_id: Set(rec.user_id.clone()),
        scope: Set(rec.scope.clone()),
        expires_at: Set(rec.expires_at),
        rotated_at: Set(None),
        created_at: Set(at),
    })
    .exec_without_returning(db)
    .await
    .map_err(map_err)?;
    Ok(())
}

/// A refresh token with the state of its family.
pub async fn find_refresh(db: &Db, token_hash: &str) -> Result<Option<RefreshRecord>> {
    let Some(row) = refresh_tokens::Entity::find_by_id(token_hash.to_owned())
        .unique(db)
        .await
        .map_err(map_err)?
    else {
        return Ok(None);
    };
    // An unknown family counts as revoked.
    let family = token_families::Entity::find_by_id(row.family_id.clone())
        .unique(db)
        .await
        .map_err(map_err)?;
    let family_revoked = family.as_ref().is_none_or(|f| f.revoked_at.is_some());
    let (auth_time, sid, methods) = family.map_or((None, None, None), |f| {
        let methods = f
            .auth_methods
            .and_then(|m| serde_json::from_str::<AuthMethods>(&m).ok());
        (f.auth_time, f.sid, methods)
    });
    Ok(Some(RefreshRecord {
        family_id: row.family_id,
        client_id: row.client_id,
        user_id: row.user_id,
        scope: row.scope,
        expires_at: row.expires_at,
        rotated: row.rotated_at.is_some(),
        family_revoked,
        auth_time,
        sid,
        methods,
    }))
}

/// Marks a refresh token used; false when it already was (a reuse).
pub async fn rotate_refresh(db: &Db, token_hash: &str, at: i64) -> Result<bool> {
    let res = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RotatedAt, Expr::value(at))
        .filter(refresh_tokens::Column::TokenHash.eq(token_hash))
        .filter(refresh_tokens::Column::RotatedAt.is_null())
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(res.rows_affected == 1)
}

/// Lists an access token as revoked until it expires.
pub async fn revoke_jti(db: &impl ConnectionTrait, jti: &str, expires_at: i64) -> Result<()> {
    revoked_access_tokens::Entity::insert(revoked_access_tokens::ActiveModel {
        jti: Set(jti.to_owned()),
        expires_at: Set(expires_at),
    })
    .on_conflict(
        OnConflict::column(revoked_access_tokens::Column::Jti)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .map_err(map_err)?;
    Ok(())
}

/// Whether an access token was revoked individually.
pub async fn jti_revoked(db: &Db, jti: &str) -> Result<bool> {
    Ok(revoked_access_tokens::Entity::find_by_id(jti.to_owned())
        .unique(db)
        .await
        .map_err(map_err)?
        .is_some())
}
