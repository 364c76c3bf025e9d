//! Audit events: batched inserts and filtered, cursor-paginated reads.

use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::entity::audit_events;
use super::{Db, map_err};
use crate::domain::audit::{AuditEvent, Filter};
use crate::error::Result;

/// Writes a batch of events (in one transaction when `tx` is one: the writer's).
pub async fn insert_events(
    tx: &impl sea_orm::ConnectionTrait,
    events: &[AuditEvent],
) -> Result<()> {
    // In chunks of a few sizes only (`super::chunks`).
    for chunk in super::chunks(events) {
        audit_events::Entity::insert_many(chunk.iter().map(row))
            .exec_without_returning(tx)
            .await
            .map_err(map_err)?;
    }
    Ok(())
}

fn row(e: &AuditEvent) -> audit_events::ActiveModel {
    audit_events::ActiveModel {
        id: Set(e.id.clone()),
        at: Set(e.at),
        event_type: Set(e.event_type.clone()),
        actor_type: Set(e.actor_type.clone()),
        actor_id: Set(e.actor_id.clone()),
        subject_user_id: Set(e.subject_user_id.clone()),
        tenant_id: Set(e.tenant_id.clone()),
        target: Set(e.target.clone()),
        ip: Set(e.ip.clone()),
        user_agent: Set(e.user_agent.as_ref().map(|u| u.chars().take(512).collect())),
        outcome: Set(e.outcome.clone()),
        detail: Set(e.detail.as_ref().map(ToString::to_string)),
    }
}

/// Events matching the filter, newest first.
pub async fn list_events(db: &Db, f: &Filter, limit: u64) -> Result<Vec<AuditEvent>> {
    let mut q = audit_events::Entity::find()
        .order_by_desc(audit_events::Column::Id)
        .limit(limit);
    if let Some(v) = &f.subject_user_id {
        q = q.filter(audit_events::Column::SubjectUserId.eq(v.as_str()));
    }
    if let Some(v) = &f.event_type {
        q = q.filter(audit_events::Column::EventType.eq(v.as_str()));
    }
    if let Some(v) = &f.event_prefix {
        // `_` and `%` are wildcards in LIKE; event types hold `_`, so escape them.
        let pattern = format!(
            "{}%",
            v.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        q = q.filter(
            audit_events::Column::EventType
                .like(sea_orm::sea_query::LikeExpr::new(pattern).escape('\\')),
        );
    }
    if let Some(v) = &f.actor_id {
        q = q.filter(audit_events::Column::ActorId.eq(v.as_str()));
    }
    if let Some(v) = f.since {
        q = q.filter(audit_events::Column::At.gte(v));
    }
    if let Some(v) = f.until {
        q = q.filter(audit_events::Column::At.lt(v));
    }
    if let Some(v) = &f.cursor {
        q = q.filter(audit_events::Column::Id.lt(v.as_str()));
    }
    let rows = q.all(db).await.map_err(map_err)?;
    Ok(rows
        .into_iter()
        .map(|m| AuditEvent {
            id: m.id,
            at: m.at,
            event_type: m.event_type,
            actor_type: m.actor_type,
            actor_id: m.actor_id,
            subject_user_id: m.subject_user_id,
            tenant_id: m.tenant_id,
            target: m.target,
            ip: m.ip,
            user_agent: m.user_agent,
            outcome: m.outcome,
            detail: m.detail.and_then(|d| serde_json::from_str(&d).ok()),
        })
        .collect())
}

/// Events whose outcome was `failure` per UTC day since `since` (Unix seconds): (day start,
/// count), days with none left out.
pub async fn failures_per_day(db: &Db, since: i64) -> Result<Vec<(i64, i64)>> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let placeholder = match db.get_database_backend() {
        DbBackend::Postgres => "$1",
        _ => "?",
    };
    let sql = format!(
        "SELECT (at / 86400) * 86400 AS day, COUNT(*) AS n FROM audit_events \
         WHERE outcome = 'failure' AND at >= {placeholder} GROUP BY (at / 86400) * 86400"
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            sql,
            [since.into()],
        ))
        .await
        .map_err(map_err)?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<i64>("", "day").map_err(map_err)?,
                r.try_get::<i64>("", "n").map_err(map_err)?,
            ))
        })
        .collect()
}
