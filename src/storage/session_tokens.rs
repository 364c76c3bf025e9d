//! Session tokens: the record of each token minted for a browser session (never the token, only
//! its id), and their revocation, which also enters their ids among the revoked access tokens
//! so verification refuses them through the usual check.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait, sea_query::Expr,
};

use super::entity::{session_tokens, sessions};
use super::{Db, map_err};
use crate::domain::session_tokens::{SessionToken, Which};
use crate::error::Result;

fn to_domain(m: session_tokens::Model) -> SessionToken {
    SessionToken {
        jti: m.jti,
        user_id: m.user_id,
        sid: m.sid,
        name: m.name,
        created_at: m.created_at,
        expires_at: m.expires_at,
    }
}

/// Records a newly minted session token.
pub async fn insert(db: &Db, t: &SessionToken) -> Result<()> {
    session_tokens::Entity::insert(session_tokens::ActiveModel {
        jti: Set(t.jti.clone()),
        user_id: Set(t.user_id.clone()),
        sid: Set(t.sid.clone()),
        name: Set(t.name.clone()),
        created_at: Set(t.created_at),
        expires_at: Set(t.expires_at),
        revoked_at: Set(None),
    })
    .exec_without_returning(db)
    .await
    .map_err(map_err)?;
    Ok(())
}

/// A person's tokens that still work: not revoked, not expired, and their browser session alive
/// (signed in after `signed_in_after`, not idle past its expiry). Newest first.
pub async fn list_live(
    db: &Db,
    user_id: &str,
    signed_in_after: i64,
    at: i64,
) -> Result<Vec<SessionToken>> {
    let live_sessions = sea_orm::sea_query::Query::select()
        .column(sessions::Column::Sid)
        .from(sessions::Entity)
        .and_where(sessions::Column::UserId.eq(user_id))
        .and_where(sessions::Column::ExpiresAt.gt(at))
        .and_where(sessions::Column::SignedInAt.gt(signed_in_after))
        .and_where(sessions::Column::Sid.is_not_null())
        .to_owned();
    let rows = session_tokens::Entity::find()
        .filter(session_tokens::Column::UserId.eq(user_id))
        .filter(session_tokens::Column::RevokedAt.is_null())
        .filter(session_tokens::Column::ExpiresAt.gt(at))
        .filter(session_tokens::Column::Sid.in_subquery(live_sessions))
        .order_by_desc(session_tokens::Column::CreatedAt)
        .order_by_desc(session_tokens::Column::Jti)
        .all(db)
        .await
        .map_err(map_err)?;
    Ok(rows.into_iter().map(to_domain).collect())
}

/// Revokes the live tokens `which` names and returns them. Each one's id also enters
/// `revoked_access_tokens` (until its expiry), in the same transaction.
pub async fn revoke(db: &Db, which: Which<'_>, at: i64) -> Result<Vec<SessionToken>> {
    let tx = db.begin().await.map_err(map_err)?;
    // Write first. On SQLite a transaction that reads and then writes fails at once
    // (SQLITE_BUSY_SNAPSHOT, which the busy timeout does not wait out) when another connection
    // wrote in between; one whose first statement writes waits for the write lock instead.
    tx.execute_unprepared("UPDATE session_tokens SET revoked_at = revoked_at WHERE 1 = 0")
        .await
        .map_err(map_err)?;
    let revoked = revoke_in(&tx, which, at).await?;
    tx.commit().await.map_err(map_err)?;
    Ok(revoked)
}

/// Ends every browser session of a person and revokes all their session tokens, at once.
/// Returns how many sessions ended and the tokens revoked.
pub async fn end_every_session(
    db: &Db,
    user_id: &str,
    at: i64,
) -> Result<(u64, Vec<SessionToken>)> {
    let tx = db.begin().await.map_err(map_err)?;
    let sessions = super::sessions::delete_for_user(&tx, user_id).await?;
    let revoked = revoke_in(&tx, Which::User(user_id), at).await?;
    tx.commit().await.map_err(map_err)?;
    Ok((sessions, revoked))
}

/// Ends the live browser session `sid` of the person `user_id` and revokes its session tokens, at
/// once. `None` (and nothing changed) when the person has no such live session.
pub async fn end_session(
    db: &Db,
    user_id: &str,
    sid: &str,
    at: i64,
) -> Result<Option<Vec<SessionToken>>> {
    let tx = db.begin().await.map_err(map_err)?;
    if super::sessions::delete_one(&tx, user_id, sid, at).await? == 0 {
        tx.rollback().await.map_err(map_err)?;
        return Ok(None);
    }
    let revoked = revoke_in(&tx, Which::Session(sid), at).await?;
    tx.commit().await.map_err(map_err)?;
    Ok(Some(revoked))
}

/// Revokes the live tokens `which` names inside a caller's transaction and returns them.
pub(super) async fn revoke_in(
    tx: &impl ConnectionTrait,
    which: Which<'_>,
    at: i64,
) -> Result<Vec<SessionToken>> {
    let live = session_tokens::Entity::find()
        .filter(session_tokens::Column::RevokedAt.is_null())
        .filter(session_tokens::Column::ExpiresAt.gt(at));
    let live = match which {
        Which::One { user_id, jti } => live
            .filter(session_tokens::Column::UserId.eq(user_id))
            .filter(session_tokens::Column::Jti.eq(jti)),
        Which::Session(sid) => live.filter(session_tokens::Column::Sid.eq(sid)),
        Which::User(user_id) => live.filter(session_tokens::Column::UserId.eq(user_id)),
    };
    let rows = live.all(tx).await.map_err(map_err)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let jtis: Vec<String> = rows.iter().map(|r| r.jti.clone()).collect();
    session_tokens::Entity::update_many()
        .col_expr(session_tokens::Column::RevokedAt, Expr::value(at))
        .filter(session_tokens::Column::Jti.is_in(jtis))
        .filter(session_tokens::Column::RevokedAt.is_null())
        .exec(tx)
        .await
        .map_err(map_err)?;
    for r in &rows {
        super::tokens::revoke_jti(tx, &r.jti, r.expires_at).await?;
    }
    Ok(rows.into_iter().map(to_domain).collect())
}
