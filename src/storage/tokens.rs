//! Authorization codes, token families, refresh tokens and revoked access-token ids. Every
//! secret is looked up by its keyed hash; single use is enforced with conditional updates, so
//! of any number of concurrent redemptions exactly one wins.

use std::collections::{HashMap, HashSet};

use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement,
    sea_query::{Expr, OnConflict},
};

use super::UniqueExt;
use super::entity::{auth_codes, refresh_tokens, revoked_access_tokens, token_families};
use super::{Db, map_err};
use crate::domain::auth_methods::AuthMethods;
use crate::domain::tokens::{CodeRecord, RefreshRecord};
use crate::error::Result;

/// Stores codes and creates the (empty) families their tokens will belong to: two statements
/// however many codes (`tx` makes them one: the writer's transaction).
pub async fn insert_codes(
    tx: &impl ConnectionTrait,
    codes: &[(&str, &CodeRecord, i64)],
) -> Result<()> {
    if codes.is_empty() {
        return Ok(());
    }
    let families = codes
        .iter()
        .map(|(_, code, at)| token_families::ActiveModel {
            id: Set(code.family_id.clone()),
            client_id: Set(code.client_id.clone()),
            user_id: Set(code.user_id.clone()),
            scope: Set(code.scope.clone()),
            created_at: Set(*at),
            revoked_at: Set(None),
            auth_time: Set(code.auth_time()),
            sid: Set(code.sid()),
            auth_methods: Set(code.methods().and_then(|m| serde_json::to_string(&m).ok())),
        });
    token_families::Entity::insert_many(families)
        .exec_without_returning(tx)
        .await
        .map_err(map_err)?;
    let rows = codes
        .iter()
        .map(|(hash, code, at)| auth_codes::ActiveModel {
            code_hash: Set((*hash).to_owned()),
            client_id: Set(code.client_id.clone()),
            user_id: Set(code.user_id.clone()),
            redirect_uri: Set(code.redirect_uri.clone()),
            scope: Set(code.scope.clone()),
            extensions: Set(code.extensions.clone()),
            expires_at: Set(code.expires_at),
            consumed_at: Set(None),
            family_id: Set(Some(code.family_id.clone())),
            created_at: Set(*at),
        });
    auth_codes::Entity::insert_many(rows)
        .exec_without_returning(tx)
        .await
        .map_err(map_err)?;
    Ok(())
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
    Ok(row.map(code_record))
}

/// Spends codes, answering for each in order: one statement for every code presented for
/// the first time; a code already spent (before, or earlier in `hashes`) is a replay and revokes
/// everything issued from it.
pub async fn consume_codes(
    db: &impl ConnectionTrait,
    hashes: &[&str],
    at: i64,
) -> Result<Vec<CodeOutcome>> {
    let mut won: HashMap<String, auth_codes::Model> = auth_codes::Entity::update_many()
        .col_expr(auth_codes::Column::ConsumedAt, Expr::value(at))
        .filter(auth_codes::Column::CodeHash.is_in(hashes.iter().copied()))
        .filter(auth_codes::Column::ConsumedAt.is_null())
        .exec_with_returning(db)
        .await
        .map_err(map_err)?
        .into_iter()
        .map(|row| (row.code_hash.clone(), row))
        .collect();
    let mut outcomes = Vec::with_capacity(hashes.len());
    for hash in hashes {
        // The first presentation in the list took it; any later one is a replay.
        let outcome = match won.remove(*hash) {
            Some(row) => CodeOutcome::Redeemed(code_record(row)),
            None => replayed(db, hash, at).await?,
        };
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

fn code_record(row: auth_codes::Model) -> CodeRecord {
    CodeRecord {
        family_id: row.family_id.unwrap_or_default(),
        client_id: row.client_id,
        user_id: row.user_id,
        redirect_uri: row.redirect_uri,
        scope: row.scope,
        extensions: row.extensions,
        expires_at: row.expires_at,
    }
}

/// A code presented once too often: its family is revoked.
async fn replayed(db: &impl ConnectionTrait, hash: &str, at: i64) -> Result<CodeOutcome> {
    let Some(row) = auth_codes::Entity::find_by_id(hash.to_owned())
        .unique(db)
        .await
        .map_err(map_err)?
    else {
        return Ok(CodeOutcome::Unknown);
    };
    let family_id = row.family_id.clone().unwrap_or_default();
    revoke_family(db, &family_id, at).await?;
    Ok(CodeOutcome::Replayed {
        family_id,
        client_id: row.client_id,
        user_id: row.user_id,
    })
}

/// Revokes a family: its refresh tokens stop working and its access tokens stop introspecting.
pub async fn revoke_family(db: &impl ConnectionTrait, family_id: &str, at: i64) -> Result<()> {
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

/// Stores refresh tokens, one statement however many.
pub async fn insert_refreshes(
    db: &impl ConnectionTrait,
    tokens: &[(&str, &RefreshRecord, i64)],
) -> Result<()> {
    if tokens.is_empty() {
        return Ok(());
    }
    let rows = tokens
        .iter()
        .map(|(hash, rec, at)| refresh_tokens::ActiveModel {
            token_hash: Set((*hash).to_owned()),
            family_id: Set(rec.family_id.clone()),
            client_id: Set(rec.client_id.clone()),
            user_id: Set(rec.user_id.clone()),
            scope: Set(rec.scope.clone()),
            expires_at: Set(rec.expires_at),
            rotated_at: Set(None),
            created_at: Set(*at),
        });
    refresh_tokens::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// A refresh token with the state of its family, in one query (every refresh and every
/// introspection of a refresh token starts with it).
pub async fn find_refresh(db: &Db, token_hash: &str) -> Result<Option<RefreshRecord>> {
    // `$1` for PostgreSQL; SQLite reads `?1` the same way.
    const SQL: &str = "SELECT r.family_id, r.client_id, r.user_id, r.scope, r.expires_at, \
        r.rotated_at, f.id AS family, f.revoked_at, f.auth_time, f.sid, f.auth_methods \
        FROM refresh_tokens r LEFT JOIN token_families f ON f.id = r.family_id \
        WHERE r.token_hash = $1";
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => SQL.to_owned(),
        _ => SQL.replace('$', "?"),
    };
    let statement = Statement::from_sql_and_values(backend, sql, [token_hash.into()]);
    let Some(row) = db.query_one_raw(statement).await.map_err(map_err)? else {
        return Ok(None);
    };
    let family: Option<String> = row.try_get("", "family").map_err(map_err)?;
    let revoked_at: Option<i64> = row.try_get("", "revoked_at").map_err(map_err)?;
    let methods: Option<String> = row.try_get("", "auth_methods").map_err(map_err)?;
    let rotated_at: Option<i64> = row.try_get("", "rotated_at").map_err(map_err)?;
    Ok(Some(RefreshRecord {
        family_id: row.try_get("", "family_id").map_err(map_err)?,
        client_id: row.try_get("", "client_id").map_err(map_err)?,
        user_id: row.try_get("", "user_id").map_err(map_err)?,
        scope: row.try_get("", "scope").map_err(map_err)?,
        expires_at: row.try_get("", "expires_at").map_err(map_err)?,
        rotated: rotated_at.is_some(),
        // An unknown family counts as revoked.
        family_revoked: family.is_none() || revoked_at.is_some(),
        auth_time: row.try_get("", "auth_time").map_err(map_err)?,
        sid: row.try_get("", "sid").map_err(map_err)?,
        methods: methods.and_then(|m| serde_json::from_str::<AuthMethods>(&m).ok()),
    }))
}

/// Marks refresh tokens used, in one statement; for each in order, whether this presentation
/// spent it (false: already used, before or earlier in `hashes`: a reuse).
pub async fn rotate_refreshes(
    db: &impl ConnectionTrait,
    hashes: &[&str],
    at: i64,
) -> Result<Vec<bool>> {
    let mut won: HashSet<String> = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RotatedAt, Expr::value(at))
        .filter(refresh_tokens::Column::TokenHash.is_in(hashes.iter().copied()))
        .filter(refresh_tokens::Column::RotatedAt.is_null())
        .exec_with_returning(db)
        .await
        .map_err(map_err)?
        .into_iter()
        .map(|row| row.token_hash)
        .collect();
    Ok(hashes.iter().map(|h| won.remove(*h)).collect())
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
