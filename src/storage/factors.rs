//! Second factors: a person's authenticator-app seed (sealed, see `secret::Sealer`) with the
//! newest time step it accepted, their recovery codes (keyed hashes only), and the server
//! settings row that holds the "second factor for everyone" switch. Single use of codes and
//! steps is enforced by conditional updates, so of concurrent attempts with one code exactly one
//! wins.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter,
    TransactionTrait, sea_query::Expr, sea_query::OnConflict,
};

use super::UniqueExt;
use super::entity::{passkeys, recovery_codes, server_settings, totp_factors};
use super::{Db, map_err};
use crate::domain::factors::StoredTotp;
use crate::error::Result;

/// A person's authenticator app, confirmed or still being enrolled.
pub async fn find_totp(db: &Db, user_id: &str) -> Result<Option<StoredTotp>> {
    Ok(totp_factors::Entity::find_by_id(user_id.to_owned())
        .unique(db)
        .await
        .map_err(map_err)?
        .map(|m| StoredTotp {
            sealed: m.secret_sealed,
            confirmed: m.confirmed,
            last_step: m.last_step,
        }))
}

/// Starts (or restarts) an enrolment with a new sealed seed; false, changing nothing, when the
/// person already has a confirmed one.
pub async fn begin_totp(db: &Db, user_id: &str, sealed: &str, at: i64) -> Result<bool> {
    let tx = db.begin().await.map_err(map_err)?;
    // Write first: on SQLite a transaction that reads and then writes fails at once when another
    // connection wrote in between (see `session_tokens::revoke`). An unconfirmed enrolment goes;
    // whatever is left is a confirmed one.
    totp_factors::Entity::delete_many()
        .filter(totp_factors::Column::UserId.eq(user_id))
        .filter(totp_factors::Column::Confirmed.eq(false))
        .exec(&tx)
        .await
        .map_err(map_err)?;
    let confirmed = totp_factors::Entity::find_by_id(user_id.to_owned())
        .one(&tx)
        .await
        .map_err(map_err)?;
    if confirmed.is_some() {
        tx.rollback().await.map_err(map_err)?;
        return Ok(false);
    }
    totp_factors::Entity::insert(totp_factors::ActiveModel {
        user_id: Set(user_id.to_owned()),
        secret_sealed: Set(sealed.to_owned()),
        confirmed: Set(false),
        last_step: Set(None),
        created_at: Set(at),
    })
    .exec_without_returning(&tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(true)
}

/// Accepts time step `step`: confirms an enrolment (`confirming`) or records a sign-in code.
/// False when the step is not newer than the last one accepted (a replay, or a race lost), or
/// the factor is not in the state expected.
pub async fn accept_step(db: &Db, user_id: &str, step: i64, confirming: bool) -> Result<bool> {
    let res = totp_factors::Entity::update_many()
        .col_expr(totp_factors::Column::LastStep, Expr::value(step))
        .col_expr(totp_factors::Column::Confirmed, Expr::value(true))
        .filter(totp_factors::Column::UserId.eq(user_id))
        .filter(totp_factors::Column::Confirmed.eq(!confirming))
        .filter(
            Condition::any()
                .add(totp_factors::Column::LastStep.is_null())
                .add(totp_factors::Column::LastStep.lt(step)),
        )
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(res.rows_affected == 1)
}

/// Removes a person's authenticator app and recovery codes, and with `FactorSet::All` their
/// passkeys too, in one transaction; returns what was removed.
pub async fn delete_factors(db: &Db, user_id: &str, set: FactorSet) -> Result<DeletedFactors> {
    let tx = db.begin().await.map_err(map_err)?;
    let totp = totp_factors::Entity::delete_by_id(user_id.to_owned())
        .exec(&tx)
        .await
        .map_err(map_err)?
        .rows_affected;
    let codes = recovery_codes::Entity::delete_many()
        .filter(recovery_codes::Column::UserId.eq(user_id))
        .exec(&tx)
        .await
        .map_err(map_err)?
        .rows_affected;
    let passkeys = match set {
        FactorSet::AppAndCodes => 0,
        FactorSet::All => {
            passkeys::Entity::delete_many()
                .filter(passkeys::Column::UserId.eq(user_id))
                .exec(&tx)
                .await
                .map_err(map_err)?
                .rows_affected
        }
    };
    tx.commit().await.map_err(map_err)?;
    Ok(DeletedFactors {
        totp: totp > 0,
        recovery_codes: codes,
        passkeys,
    })
}

/// Which factors `delete_factors` removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorSet {
    /// The authenticator app and the recovery codes that stand in for it.
    AppAndCodes,
    /// Every second factor, passkeys included.
    All,
}

/// What `delete_factors` removed.
#[derive(Debug, Clone, Copy)]
pub struct DeletedFactors {
    /// The authenticator app.
    pub totp: bool,
    /// Recovery codes (used or not).
    pub recovery_codes: u64,
    /// Passkeys.
    pub passkeys: u64,
}

/// Replaces a person's recovery codes with these hashes (the old set is void at once).
pub async fn replace_recovery_codes(
    db: &Db,
    user_id: &str,
    hashes: &[String],
    at: i64,
) -> Result<()> {
    let tx = db.begin().await.map_err(map_err)?;
    recovery_codes::Entity::delete_many()
        .filter(recovery_codes::Column::UserId.eq(user_id))
        .exec(&tx)
        .await
        .map_err(map_err)?;
    let rows = hashes.iter().map(|h| recovery_codes::ActiveModel {
        code_hash: Set(h.clone()),
        user_id: Set(user_id.to_owned()),
        used_at: Set(None),
        created_at: Set(at),
    });
    recovery_codes::Entity::insert_many(rows)
        .exec_without_returning(&tx)
        .await
        .map_err(map_err)?;
    tx.commit().await.map_err(map_err)
}

/// Spends one of a person's unused recovery codes; false when it is not theirs or was spent.
pub async fn spend_recovery_code(db: &Db, user_id: &str, hash: &str, at: i64) -> Result<bool> {
    let res = recovery_codes::Entity::update_many()
        .col_expr(recovery_codes::Column::UsedAt, Expr::value(at))
        .filter(recovery_codes::Column::CodeHash.eq(hash))
        .filter(recovery_codes::Column::UserId.eq(user_id))
        .filter(recovery_codes::Column::UsedAt.is_null())
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(res.rows_affected == 1)
}

/// How many unused recovery codes a person has.
pub async fn recovery_codes_left(db: &Db, user_id: &str) -> Result<u64> {
    recovery_codes::Entity::find()
        .filter(recovery_codes::Column::UserId.eq(user_id))
        .filter(recovery_codes::Column::UsedAt.is_null())
        .count(db)
        .await
        .map_err(map_err)
}

/// A server setting's stored value, if it was ever set.
pub async fn find_setting(db: &Db, name: &str) -> Result<Option<String>> {
    Ok(server_settings::Entity::find_by_id(name.to_owned())
        .unique(db)
        .await
        .map_err(map_err)?
        .map(|m| m.value))
}

/// Sets a server setting.
pub async fn put_setting(db: &Db, name: &str, value: &str, at: i64) -> Result<()> {
    server_settings::Entity::insert(server_settings::ActiveModel {
        name: Set(name.to_owned()),
        value: Set(value.to_owned()),
        updated_at: Set(at),
    })
    .on_conflict(
        OnConflict::column(server_settings::Column::Name)
            .update_columns([
                server_settings::Column::Value,
                server_settings::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .map_err(map_err)?;
    Ok(())
}
