//! The audit log: one row per security event. Ids are UUID v7, so they sort by time and serve as
//! pagination cursors.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AuditEvents::Table)
                .col(string_len(AuditEvents::Id, 36).primary_key())
                .col(big_integer(AuditEvents::At))
                .col(string_len(AuditEvents::EventType, 64))
                .col(string_len(AuditEvents::ActorType, 16))
                .col(string_len_null(AuditEvents::ActorId, 64))
                .col(string_len_null(AuditEvents::SubjectUserId, 36))
                .col(string_len_null(AuditEvents::TenantId, 36))
                .col(string_len_null(AuditEvents::Target, 128))
                .col(string_len_null(AuditEvents::Ip, 45))
                .col(text_null(AuditEvents::UserAgent))
                .col(string_len(AuditEvents::Outcome, 16))
                .col(text_null(AuditEvents::Detail))
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("idx_audit_events_at", AuditEvents::At),
            ("idx_audit_events_subject", AuditEvents::SubjectUserId),
            ("idx_audit_events_actor", AuditEvents::ActorId),
            ("idx_audit_events_type", AuditEvents::EventType),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(AuditEvents::Table)
                    .col(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AuditEvents::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    At,
    EventType,
    ActorType,
    ActorId,
    SubjectUserId,
    TenantId,
    Target,
    Ip,
    UserAgent,
    Outcome,
    Detail,
}
