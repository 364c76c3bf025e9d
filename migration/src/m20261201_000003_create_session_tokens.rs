//! Session tokens (the short-lived tokens a signed-in person creates for Swagger UI) and what ties
//! them to the browser session that created them: each session row gains its person, a
//! non-secret session id and its sign-in time, copied out of the session state, so a token's
//! session can be checked and every session of a person ended.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        for col in [
            string_len_null(Sessions::UserId, 36),
            string_len_null(Sessions::Sid, 36),
            big_integer_null(Sessions::SignedInAt),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }
        for (name, col) in [
            ("idx_sessions_user_id", Sessions::UserId),
            ("idx_sessions_sid", Sessions::Sid),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Sessions::Table)
                    .col(col)
                    .to_owned(),
            )
            .await?;
        }

        // Never the token itself: only its id, which its holder cannot be impersonated with.
        m.create_table(
            Table::create()
                .table(SessionTokens::Table)
                .col(string_len(SessionTokens::Jti, 36).primary_key())
                .col(string_len(SessionTokens::UserId, 36))
                .col(string_len(SessionTokens::Sid, 36))
                .col(string_len_null(SessionTokens::Name, 100))
                .col(big_integer(SessionTokens::CreatedAt))
                .col(big_integer(SessionTokens::ExpiresAt))
                .col(big_integer_null(SessionTokens::RevokedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(SessionTokens::Table, SessionTokens::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("idx_session_tokens_user_id", SessionTokens::UserId),
            ("idx_session_tokens_sid", SessionTokens::Sid),
            ("idx_session_tokens_expires_at", SessionTokens::ExpiresAt),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(SessionTokens::Table)
                    .col(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SessionTokens::Table).to_owned())
            .await?;
        for name in ["idx_sessions_sid", "idx_sessions_user_id"] {
            m.drop_index(Index::drop().name(name).table(Sessions::Table).to_owned())
                .await?;
        }
        for col in [Sessions::SignedInAt, Sessions::Sid, Sessions::UserId] {
            m.alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    UserId,
    Sid,
    SignedInAt,
}

#[derive(DeriveIden)]
enum SessionTokens {
    Table,
    Jti,
    UserId,
    Sid,
    Name,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
