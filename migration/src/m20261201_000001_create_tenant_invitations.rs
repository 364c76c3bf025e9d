//! Invitations to join a tenant: addressed to an email with a role, pending until the account
//! with that address accepts or declines, an administrator revokes, or they expire. One per
//! (tenant, email): inviting again updates the pending one.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(TenantInvitations::Table)
                .col(string_len(TenantInvitations::Id, 36).primary_key())
                .col(string_len(TenantInvitations::TenantId, 36))
                // RFC 5321 §4.5.3.1.3 bounds a path at 256 octets, so an address at 254.
                .col(string_len(TenantInvitations::Email, 254))
                .col(string_len(TenantInvitations::Role, 16))
                .col(string_len(TenantInvitations::InvitedBy, 36))
                .col(big_integer(TenantInvitations::CreatedAt))
                .col(big_integer(TenantInvitations::ExpiresAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(TenantInvitations::Table, TenantInvitations::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_tenant_invitations_tenant_email")
                .table(TenantInvitations::Table)
                .col(TenantInvitations::TenantId)
                .col(TenantInvitations::Email)
                .unique()
                .to_owned(),
        )
        .await?;
        // The invitee's pending list looks up by address; the janitor by expiry.
        for (name, col) in [
            ("idx_tenant_invitations_email", TenantInvitations::Email),
            (
                "idx_tenant_invitations_expires_at",
                TenantInvitations::ExpiresAt,
            ),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(TenantInvitations::Table)
                    .col(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(TenantInvitations::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum TenantInvitations {
    Table,
    Id,
    TenantId,
    Email,
    Role,
    InvitedBy,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}
