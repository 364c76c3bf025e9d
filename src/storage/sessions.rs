//! Server-side browser sessions for actix-session. The cookie carries only a random key; the
//! state lives here, keyed by the key's SHA-256, so signing out (or an expiry) ends a session
//! for good and a copy of the database does not hand out live sessions.

use std::collections::HashMap;

use actix_session::storage::{
    LoadError, SaveError, SessionKey, SessionStore, UpdateError, generate_session_key,
};
use actix_web::cookie::time::Duration;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use sha2::{Digest, Sha256};

use super::UniqueExt;
use super::entity::sessions;
use super::{Db, now};

/// actix-session store backed by the `sessions` table.
#[derive(Clone)]
pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    /// A store over this pool.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

fn row_id(key: &SessionKey) -> String {
    let digest = Sha256::digest(key.as_ref().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

type State = HashMap<String, String>;

impl SessionStore for DbSessionStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<State>, LoadError> {
        let row = sessions::Entity::find_by_id(row_id(key))
            .filter(sessions::Column::ExpiresAt.gt(now()))
            .unique(&self.db)
            .await
            .map_err(|e| LoadError::Other(e.into()))?;
        row.map(|r| {
            serde_json::from_str(&r.state).map_err(|e| LoadError::Deserialization(e.into()))
        })
        .transpose()
    }

    async fn save(&self, state: State, ttl: &Duration) -> Result<SessionKey, SaveError> {
        let body = serde_json::to_string(&state).map_err(|e| SaveError::Serialization(e.into()))?;
        let key = generate_session_key();
        let at = now();
        sessions::Entity::insert(sessions::ActiveModel {
            id: Set(row_id(&key)),
            state: Set(body),
            expires_at: Set(at + ttl.whole_seconds()),
            created_at: Set(at),
        })
        .exec_without_returning(&self.db)
        .await
        .map_err(|e| SaveError::Other(e.into()))?;
        Ok(key)
    }

    async fn update(
        &self,
        key: SessionKey,
        state: State,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let body =
            serde_json::to_string(&state).map_err(|e| UpdateError::Serialization(e.into()))?;
        let result = sessions::Entity::update_many()
            .col_expr(sessions::Column::State, Expr::value(body))
            .col_expr(
                sessions::Column::ExpiresAt,
                Expr::value(now() + ttl.whole_seconds()),
            )
            .filter(sessions::Column::Id.eq(row_id(&key)))
            .filter(sessions::Column::ExpiresAt.gt(now()))
            .exec(&self.db)
            .await
            .map_err(|e| UpdateError::Other(e.into()))?;
        if result.rows_affected == 1 {
            return Ok(key);
        }
        // The session expired or was removed meanwhile: start a fresh one rather than revive it.
        self.save(state, ttl).await.map_err(|e| match e {
            SaveError::Serialization(e) => UpdateError::Serialization(e),
            SaveError::Other(e) => UpdateError::Other(e),
        })
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> Result<(), anyhow::Error> {
        sessions::Entity::update_many()
            .col_expr(
                sessions::Column::ExpiresAt,
                Expr::value(now() + ttl.whole_seconds()),
            )
            .filter(sessions::Column::Id.eq(row_id(key)))
            .filter(sessions::Column::ExpiresAt.gt(now()))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        sessions::Entity::delete_by_id(row_id(key))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}
