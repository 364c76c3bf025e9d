//! Long-lived credentials, looked up by the keyed hash of their secret.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, sea_query::Expr,
};

use super::UniqueExt;
use super::entity::credentials;
use super::{Db, map_err};
use crate::domain::credentials::{Credential, CredentialKind, Environment};
use crate::domain::scope::ScopeSet;
use crate::error::{AppError, Result};

fn to_domain(m: credentials::Model) -> Result<Credential> {
    Ok(Credential {
        kind: CredentialKind::parse(&m.kind)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown kind {}", m.kind)))?,
        permissions: ScopeSet::parse(&m.permissions)?,
        environment: m.environment.as_deref().and_then(Environment::parse),
        allowed_ips: serde_json::from_str(&m.allowed_ips).map_err(AppError::internal)?,
        id: m.id,
        user_id: m.user_id,
        tenant_id: m.tenant_id,
        name: m.name,
        prefix: m.prefix,
        expires_at: m.expires_at,
        created_at: m.created_at,
        last_used_at: m.last_used_at,
        last_used_ip: m.last_used_ip,
        revoked_at: m.revoked_at,
    })
}

/// Stores a credential with the hash of its secret.
pub async fn insert_credential(db: &Db, c: &Credential, secret_hash: &str) -> Result<()> {
    credentials::Entity::insert(credentials::ActiveModel {
        id: Set(c.id.clone()),
        user_id: Set(c.user_id.clone()),
        tenant_id: Set(c.tenant_id.clone()),
        kind: Set(c.kind.as_str().to_owned()),
        name: Set(c.name.clone()),
        prefix: Set(c.prefix.clone()),
        secret_hash: Set(secret_hash.to_owned()),
        permissions: Set(c.permissions.to_string()),
        environment: Set(c.environment.map(|e| e.as_str().to_owned())),
        expires_at: Set(c.expires_at),
        allowed_ips: Set(serde_json::to_string(&c.allowed_ips).map_err(AppError::internal)?),
        created_at: Set(c.created_at),
        last_used_at: Set(None),
        last_used_ip: Set(None),
        revoked_at: Set(None),
    })
    .exec_without_returning(db)
    .await
    .map_err(map_err)?;
    Ok(())
}

/// The credential whose secret hashes to `hash`.
pub async fn find_by_hash(db: &Db, hash: &str) -> Result<Option<Credential>> {
    credentials::Entity::find()
        .filter(credentials::Column::SecretHash.eq(hash))
        .unique(db)
        .await
        .map_err(map_err)?
        .map(to_domain)
        .transpose()
}

/// The credential with this id, revoked or not.
pub async fn find_by_id(db: &Db, id: &str) -> Result<Option<Credential>> {
    credentials::Entity::find_by_id(id.to_owned())
        .unique(db)
        .await
        .map_err(map_err)?
        .map(to_domain)
        .transpose()
}

/// Whether a credential is revoked (or gone).
pub async fn is_revoked(db: &Db, id: &str) -> Result<bool> {
    let row = credentials::Entity::find_by_id(id.to_owned())
        .unique(db)
        .await
        .map_err(map_err)?;
    Ok(row.is_none_or(|r| r.revoked_at.is_some()))
}

/// A person's live credentials of some kinds, newest first, optionally in one tenant.
pub async fn list_live(
    db: &Db,
    user_id: &str,
    tenant_id: Option<&str>,
    kinds: &[CredentialKind],
) -> Result<Vec<Credential>> {
    let mut q = credentials::Entity::find()
        .filter(credentials::Column::UserId.eq(user_id))
        .filter(credentials::Column::RevokedAt.is_null())
        .filter(credentials::Column::Kind.is_in(kinds.iter().map(|k| k.as_str())))
        .order_by_desc(credentials::Column::CreatedAt)
        .order_by_desc(credentials::Column::Id);
    if let Some(t) = tenant_id {
        q = q.filter(credentials::Column::TenantId.eq(t));
    }
    q.all(db)
        .await
        .map_err(map_err)?
        .into_iter()
        .map(to_domain)
        .collect()
}

/// Every live credential in a tenant, whoever owns it, newest first.
pub async fn list_live_in_tenant(db: &Db, tenant_id: &str) -> Result<Vec<Credential>> {
    credentials::Entity::find()
        .filter(credentials::Column::TenantId.eq(tenant_id))
        .filter(credentials::Column::RevokedAt.is_null())
        .order_by_desc(credentials::Column::CreatedAt)
        .order_by_desc(credentials::Column::Id)
        .all(db)
        .await
        .map_err(map_err)?
        .into_iter()
        .map(to_domain)
        .collect()
}

/// Revokes live credentials of a person matching `id` (when given) and `kind`; returns how many.
pub async fn revoke(
    db: &Db,
    user_id: &str,
    kind: CredentialKind,
    id: Option<&str>,
    tenant_id: Option<&str>,
    at: i64,
) -> Result<u64> {
    let mut q = credentials::Entity::update_many()
        .col_expr(credentials::Column::RevokedAt, Expr::value(at))
        .filter(credentials::Column::UserId.eq(user_id))
        .filter(credentials::Column::Kind.eq(kind.as_str()))
        .filter(credentials::Column::RevokedAt.is_null());
    if let Some(id) = id {
        q = q.filter(credentials::Column::Id.eq(id));
    }
    if let Some(t) = tenant_id {
        q = q.filter(credentials::Column::TenantId.eq(t));
    }
    Ok(q.exec(db).await.map_err(map_err)?.rows_affected)
}

/// Gives a credential a new name.
pub async fn rename(db: &Db, id: &str, name: &str) -> Result<()> {
    credentials::Entity::update_many()
        .col_expr(credentials::Column::Name, Expr::value(name))
        .filter(credentials::Column::Id.eq(id))
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// Moves a credential's expiry (a rolled key's old secret ends then).
pub async fn set_expiry(db: &Db, id: &str, at: i64) -> Result<()> {
    credentials::Entity::update_many()
        .col_expr(credentials::Column::ExpiresAt, Expr::value(at))
        .filter(credentials::Column::Id.eq(id))
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// Records last use for many credentials at once (the coalesced writes of `LastUsed`).
pub async fn record_last_used(
    db: &impl sea_orm::ConnectionTrait,
    batch: &[(String, i64, String)],
) -> Result<()> {
    for (id, at, ip) in batch {
        credentials::Entity::update_many()
            .col_expr(credentials::Column::LastUsedAt, Expr::value(*at))
            .col_expr(credentials::Column::LastUsedIp, Expr::value(ip.clone()))
            .filter(credentials::Column::Id.eq(id.as_str()))
            .exec(db)
            .await
            .map_err(map_err)?;
    }
    Ok(())
}
