//! What the Settings → Sessions page shows of each browser session: the user agent and client
//! address it signed in from, copied out of the session state as the person and session id are,
//! and when it was last used (written with each new idle expiry, so it costs no extra query).
//! All nullable: sessions made before this have none until they are next used or signed in.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement. The user agent is kept to 256 bytes and an
        // address is at most 45 characters (an IPv4-mapped IPv6 address).
        for col in [
            string_len_null(Sessions::UserAgent, 256),
            string_len_null(Sessions::IpAddress, 45),
            big_integer_null(Sessions::LastSeenAt),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            Sessions::LastSeenAt,
            Sessions::IpAddress,
            Sessions::UserAgent,
        ] {
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
    UserAgent,
    IpAddress,
    LastSeenAt,
}
