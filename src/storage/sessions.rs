//! Server-side browser sessions for actix-session. The cookie carries only a random key; the
//! state lives here, keyed by the key's SHA-256, so signing out (or an expiry) ends a session
//! for good and a copy of the database does not hand out live sessions.
//!
//! Three entries of the state are also copied into columns (the person, a non-secret session id
//! and the sign-in time), so that session tokens can be tied to their session and every session
//! of a person can be ended.

use std::collections::HashMap;

use actix_session::storage::{
    LoadError, SaveError, SessionKey, SessionStore, UpdateError, generate_session_key,
};
use actix_web::cookie::time::Duration;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    sea_query::Expr,
};
use sha2::{Digest, Sha256};

use super::UniqueExt;
use super::entity::sessions;
use super::{Db, map_err};
use crate::clock::Clock;
use crate::error::Result;

/// actix-session store backed by the `sessions` table.
#[derive(Clone)]
pub struct DbSessionStore {
    db: Db,
    /// The server's clock: idle expiry is judged by it, as every other expiry is.
    clock: Clock,
}

impl DbSessionStore {
    /// A store over this pool, judging expiry by `clock`.
    pub fn new(db: Db, clock: Clock) -> Self {
        Self { db, clock }
    }
}

fn row_id(key: &SessionKey) -> String {
    let digest = Sha256::digest(key.as_ref().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

type State = HashMap<String, String>;

/// The session-state entries the store copies into columns (named by the domain, which writes
/// them when someone signs in).
pub use crate::domain::session_tokens::{STATE_SID, STATE_SIGNED_IN_AT, STATE_USER_ID};

/// The columns copied out of the state (actix-session stores each value as JSON).
struct Indexed {
    user_id: Option<String>,
    sid: Option<String>,
    signed_in_at: Option<i64>,
}

fn indexed(state: &State) -> Indexed {
    let text = |k: &str| {
        state
            .get(k)
            .and_then(|v| serde_json::from_str::<String>(v).ok())
    };
    Indexed {
        user_id: text(STATE_USER_ID),
        sid: text(STATE_SID),
        signed_in_at: state
            .get(STATE_SIGNED_IN_AT)
            .and_then(|v| serde_json::from_str::<i64>(v).ok()),
    }
}

impl SessionStore for DbSessionStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<State>, LoadError> {
        let row = sessions::Entity::find_by_id(row_id(key))
            .filter(sessions::Column::ExpiresAt.gt(self.clock.now()))
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
        let at = self.clock.now();
        let cols = indexed(&state);
        sessions::Entity::insert(sessions::ActiveModel {
            id: Set(row_id(&key)),
            state: Set(body),
            expires_at: Set(at + ttl.whole_seconds()),
            created_at: Set(at),
            user_id: Set(cols.user_id),
            sid: Set(cols.sid),
            signed_in_at: Set(cols.signed_in_at),
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
        let cols = indexed(&state);
        let result = sessions::Entity::update_many()
            .col_expr(sessions::Column::State, Expr::value(body))
            .col_expr(sessions::Column::UserId, Expr::value(cols.user_id))
            .col_expr(sessions::Column::Sid, Expr::value(cols.sid))
            .col_expr(sessions::Column::SignedInAt, Expr::value(cols.signed_in_at))
            .col_expr(
                sessions::Column::ExpiresAt,
                Expr::value(self.clock.now() + ttl.whole_seconds()),
            )
            .filter(sessions::Column::Id.eq(row_id(&key)))
            .filter(sessions::Column::ExpiresAt.gt(self.clock.now()))
            .exec(&self.db)
            .await
            .map_err(|e| UpdateError::Other(e.into()))?;
        if result.rows_affected == 1 {
            return Ok(key);
        }
        // The session expired or was removed meanwhile (sign-out everywhere, from another
        // browser): start a fresh one rather than revive it, so without its sign-in.
        let mut state = state;
        for k in [STATE_USER_ID, STATE_SIGNED_IN_AT, STATE_SID] {
            state.remove(k);
        }
        self.save(state, ttl).await.map_err(|e| match e {
            SaveError::Serialization(e) => UpdateError::Serialization(e),
            SaveError::Other(e) => UpdateError::Other(e),
        })
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> Result<(), anyhow::Error> {
        sessions::Entity::update_many()
            .col_expr(
                sessions::Column::ExpiresAt,
                Expr::value(self.clock.now() + ttl.whole_seconds()),
            )
            .filter(sessions::Column::Id.eq(row_id(key)))
            .filter(sessions::Column::ExpiresAt.gt(self.clock.now()))
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

/// Whether the browser session `sid` is still alive: not signed out, not idle past its expiry,
/// and signed in after `signed_in_after` (its absolute lifetime).
pub async fn is_alive(db: &Db, sid: &str, signed_in_after: i64, now: i64) -> Result<bool> {
    let found: Vec<String> = sessions::Entity::find()
        .select_only()
        .column(sessions::Column::Id)
        .filter(sessions::Column::Sid.eq(sid))
        .filter(sessions::Column::ExpiresAt.gt(now))
        .filter(sessions::Column::SignedInAt.gt(signed_in_after))
        .into_tuple()
        .all(db)
        .await
        .map_err(map_err)?;
    Ok(!found.is_empty())
}

/// Ends every browser session of a person; returns how many there were.
pub async fn delete_for_user(db: &impl ConnectionTrait, user_id: &str) -> Result<u64> {
    let res = sessions::Entity::delete_many()
        .filter(sessions::Column::UserId.eq(user_id))
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(res.rows_affected)
}
