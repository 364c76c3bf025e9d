//! Audit events: batched inserts and filtered, cursor-paginated reads.

use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::entity::audit_events;
use super::{Db, map_err};
use crate::domain::audit::{AuditEvent, Filter};
use crate::error::Result;

/// Writes a batch in one statement.
pub async fn insert_events(db: &Db, events: &[AuditEvent]) -> Result<()> {
    let rows = events.iter().map(|e| audit_events::ActiveModel {
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
    });
    audit_events::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await
        .map_err(map_err)?;
    Ok(())
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
