//! Accounts as server administrators manage them: searching a page of them, disabling and
//! enabling, granting and revoking administrator rights, and removing an account with
//! everything it holds. The rule that a server keeps one active administrator is enforced
//! inside the same transaction as the change, so two administrators demoting each other at once
//! cannot both succeed.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use super::entity::{
    audit_events, auth_codes, consents, oauth_clients, refresh_tokens, tenant_invitations,
    tenant_members, tenants, token_families, users,
};
use super::users::to_domain;
use super::{Db, map_err};
use crate::domain::user::User;
use crate::error::{AppError, Result};

/// One page of a search.
#[derive(Debug)]
pub struct UserPage {
    /// The accounts on the page, oldest first.
    pub users: Vec<User>,
    /// How many accounts match in all.
    pub total: u64,
}

/// Accounts whose name or email contains `query` (case-insensitive), oldest first, `limit` of
/// them after skipping `offset`.
pub async fn search(db: &Db, query: Option<&str>, offset: u64, limit: u64) -> Result<UserPage> {
    let mut select = users::Entity::find();
    if let Some(q) = query {
        // `LIKE` is case-sensitive on PostgreSQL: compare lower-cased on both sides, and escape
        // the pattern characters so `%` and `_` match themselves.
        let escaped = q
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let pattern = || LikeExpr::new(format!("%{escaped}%")).escape('\\');
        select = select.filter(
            Condition::any()
                .add(Expr::expr(Func::lower(Expr::col(users::Column::Name))).like(pattern()))
                .add(Expr::expr(Func::lower(Expr::col(users::Column::Email))).like(pattern())),
        );
    }
    let total = select.clone().count(db).await.map_err(map_err)?;
    let rows = select
        .order_by_asc(users::Column::CreatedAt)
        .order_by_asc(users::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await
        .map_err(map_err)?;
    Ok(UserPage {
        users: rows.into_iter().map(to_domain).collect(),
        total,
    })
}

/// When each of these people last signed in, as far as the audit log still remembers.
pub async fn last_sign_ins(db: &Db, user_ids: &[String]) -> Result<HashMap<String, i64>> {
    if user_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Option<String>, Option<i64>)> = audit_events::Entity::find()
        .select_only()
        .column(audit_events::Column::ActorId)
        .column_as(audit_events::Column::At.max(), "at")
        .filter(audit_events::Column::EventType.eq("signin.success"))
        .filter(audit_events::Column::ActorId.is_in(user_ids.iter().cloned()))
        .group_by(audit_events::Column::ActorId)
        .into_tuple()
        .all(db)
        .await
        .map_err(map_err)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, at)| Some((id?, at?)))
        .collect())
}

/// Fails with `Conflict` (and leaves the caller to roll back) when the server would be left
/// without an active administrator.
async fn ensure_an_active_admin(tx: &DatabaseTransaction) -> Result<()> {
    let admins = users::Entity::find()
        .filter(users::Column::IsAdmin.eq(true))
        .filter(users::Column::DisabledAt.is_null())
        .count(tx)
        .await
        .map_err(map_err)?;
    if admins == 0 {
        return Err(AppError::Conflict(
            "The server needs at least one active administrator.".into(),
        ));
    }
    Ok(())
}

/// Runs `f`'s write, then the one-active-administrator check, in one transaction; the write
/// comes first so SQLite takes its write lock before the read (no `SQLITE_BUSY_SNAPSHOT`).
async fn guarded_update(
    db: &Db,
    id: &str,
    update: sea_orm::UpdateMany<users::Entity>,
) -> Result<()> {
    let tx = db.begin().await.map_err(map_err)?;
    let res = update
        .filter(users::Column::Id.eq(id))
        .exec(&tx)
        .await
        .map_err(map_err)?;
    if res.rows_affected != 1 {
        tx.rollback().await.map_err(map_err)?;
        return Err(AppError::NotFound("Person"));
    }
    if let Err(e) = ensure_an_active_admin(&tx).await {
        tx.rollback().await.map_err(map_err)?;
        return Err(e);
    }
    tx.commit().await.map_err(map_err)
}

/// Grants or revokes administrator rights; never leaves the server without an active
/// administrator.
pub async fn set_admin(db: &Db, id: &str, is_admin: bool, at: i64) -> Result<()> {
    let update = users::Entity::update_many()
        .col_expr(users::Column::IsAdmin, Expr::value(is_admin))
        .col_expr(users::Column::UpdatedAt, Expr::value(at));
    guarded_update(db, id, update).await
}

/// Enables an account (`None`) or disables it from `disabled_at`; never disables the last active
/// administrator.
pub async fn set_disabled(db: &Db, id: &str, disabled_at: Option<i64>, at: i64) -> Result<()> {
    let update = users::Entity::update_many()
        .col_expr(users::Column::DisabledAt, Expr::value(disabled_at))
        .col_expr(users::Column::UpdatedAt, Expr::value(at));
    guarded_update(db, id, update).await
}

/// What removing an account removed besides the row itself.
#[derive(Debug)]
pub struct Removed {
    /// Browser sessions ended.
    pub sessions: u64,
    /// The person's personal tenant, removed with them.
    pub personal_tenant: Option<String>,
}

/// Removes an account and everything that is only theirs: browser sessions, session tokens,
/// credentials, consents, authorization codes, refresh tokens and their families, second
/// factors, passkeys, mailed links, memberships, the invitations they sent, the apps they
/// registered and their personal tenant. The audit log keeps its record of them.
pub async fn delete_user(db: &Db, id: &str, personal_tenant: Option<&str>) -> Result<Removed> {
    let tx = db.begin().await.map_err(map_err)?;
    // Written first: SQLite takes its write lock before anything is read.
    let res = users::Entity::delete_many()
        .filter(users::Column::Id.eq(id))
        .exec(&tx)
        .await
        .map_err(map_err)?;
    if res.rows_affected != 1 {
        tx.rollback().await.map_err(map_err)?;
        return Err(AppError::NotFound("Person"));
    }
    if let Err(e) = ensure_an_active_admin(&tx).await {
        tx.rollback().await.map_err(map_err)?;
        return Err(e);
    }
    // The schema cascades credentials, memberships, session tokens, second factors, passkeys,
    // mailed links and owned apps on PostgreSQL and SQLite alike; the rest is deleted here.
    let sessions = super::sessions::delete_for_user(&tx, id).await?;
    delete_owned(&tx, id).await?;
    if let Some(tenant_id) = personal_tenant {
        delete_tenant(&tx, tenant_id).await?;
    }
    tx.commit().await.map_err(map_err)?;
    Ok(Removed {
        sessions,
        personal_tenant: personal_tenant.map(str::to_owned),
    })
}

async fn delete_owned(tx: &impl ConnectionTrait, id: &str) -> Result<()> {
    auth_codes::Entity::delete_many()
        .filter(auth_codes::Column::UserId.eq(id))
        .exec(tx)
        .await
        .map_err(map_err)?;
    consents::Entity::delete_many()
        .filter(consents::Column::UserId.eq(id))
        .exec(tx)
        .await
        .map_err(map_err)?;
    refresh_tokens::Entity::delete_many()
        .filter(refresh_tokens::Column::UserId.eq(id))
        .exec(tx)
        .await
        .map_err(map_err)?;
    token_families::Entity::delete_many()
        .filter(token_families::Column::UserId.eq(id))
        .exec(tx)
        .await
        .map_err(map_err)?;
    tenant_members::Entity::delete_many()
        .filter(tenant_members::Column::UserId.eq(id))
        .exec(tx)
        .await
        .map_err(map_err)?;
    tenant_invitations::Entity::delete_many()
        .filter(tenant_invitations::Column::InvitedBy.eq(id))
        .exec(tx)
        .await
        .map_err(map_err)?;
    oauth_clients::Entity::delete_many()
        .filter(oauth_clients::Column::OwnerId.eq(id))
        .exec(tx)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// A personal tenant goes with its person: its members, invitations and system credentials
/// (its long-lived credentials cascade with the tenant row).
async fn delete_tenant(tx: &impl ConnectionTrait, tenant_id: &str) -> Result<()> {
    tenant_members::Entity::delete_many()
        .filter(tenant_members::Column::TenantId.eq(tenant_id))
        .exec(tx)
        .await
        .map_err(map_err)?;
    tenant_invitations::Entity::delete_many()
        .filter(tenant_invitations::Column::TenantId.eq(tenant_id))
        .exec(tx)
        .await
        .map_err(map_err)?;
    oauth_clients::Entity::delete_many()
        .filter(oauth_clients::Column::TenantId.eq(tenant_id))
        .exec(tx)
        .await
        .map_err(map_err)?;
    tenants::Entity::delete_many()
        .filter(tenants::Column::Id.eq(tenant_id))
        .exec(tx)
        .await
        .map_err(map_err)?;
    Ok(())
}
