//! Tenants with their members, and long-lived credentials (API keys, personal access tokens,
//! personal tokens, account secret keys). A credential row never holds its secret: only an
//! HMAC-SHA256 of it under a server key, and a short display prefix.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Tenants::Table)
                .col(string_len(Tenants::Id, 36).primary_key())
                .col(string_len(Tenants::Name, 100))
                .col(string_len_null(Tenants::PersonalUserId, 36).unique_key())
                .col(big_integer(Tenants::CreatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(TenantMembers::Table)
                .col(string_len(TenantMembers::TenantId, 36))
                .col(string_len(TenantMembers::UserId, 36))
                .col(string_len(TenantMembers::Role, 16))
                .col(big_integer(TenantMembers::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(TenantMembers::TenantId)
                        .col(TenantMembers::UserId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(TenantMembers::Table, TenantMembers::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(TenantMembers::Table, TenantMembers::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_tenant_members_user")
                .table(TenantMembers::Table)
                .col(TenantMembers::UserId)
                .to_owned(),
        )
        .await?;

        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .add_column(string_len_null(Users::ActiveTenantId, 36))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Credentials::Table)
                .col(string_len(Credentials::Id, 36).primary_key())
                .col(string_len_null(Credentials::UserId, 36))
                .col(string_len(Credentials::TenantId, 36))
                .col(string_len(Credentials::Kind, 32))
                .col(string_len(Credentials::Name, 100))
                .col(string_len(Credentials::Prefix, 32))
                .col(string_len_uniq(Credentials::SecretHash, 64))
                .col(text(Credentials::Permissions))
                .col(string_len_null(Credentials::Environment, 8))
                .col(big_integer_null(Credentials::ExpiresAt))
                .col(text(Credentials::AllowedIps))
                .col(big_integer(Credentials::CreatedAt))
                .col(big_integer_null(Credentials::LastUsedAt))
                .col(string_len_null(Credentials::LastUsedIp, 45))
                .col(big_integer_null(Credentials::RevokedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Credentials::Table, Credentials::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Credentials::Table, Credentials::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_credentials_user_kind")
                .table(Credentials::Table)
                .col(Credentials::UserId)
                .col(Credentials::Kind)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_credentials_tenant")
                .table(Credentials::Table)
                .col(Credentials::TenantId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Credentials::Table).to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .drop_column(Users::ActiveTenantId)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(TenantMembers::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Tenants::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    ActiveTenantId,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    Name,
    PersonalUserId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TenantMembers {
    Table,
    TenantId,
    UserId,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Credentials {
    Table,
    Id,
    UserId,
    TenantId,
    Kind,
    Name,
    Prefix,
    SecretHash,
    Permissions,
    Environment,
    ExpiresAt,
    AllowedIps,
    CreatedAt,
    LastUsedAt,
    LastUsedIp,
    RevokedAt,
}
