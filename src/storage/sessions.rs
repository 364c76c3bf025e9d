//! Server-side browser sessions for actix-session. The cookie carries only a random key; the
//! state lives here, keyed by the key's SHA-256, so signing out (or an expiry) ends a session
//! for good and a copy of the database does not hand out live sessions.
//!
//! Some entries of the state are also copied into columns (the person, a non-secret session id,
//! the sign-in time, and the user agent and address it signed in from), so that session tokens
//! can be tied to their session and a person's sessions can be listed and ended. Each save also
//! writes when the session was last used, in the statement that extends its idle expiry.

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
use super::writer::{Write, Writer};
use super::{Db, map_err};
use crate::clock::Clock;
use crate::domain::bounded;
use crate::domain::browser_sessions::LiveSession;
use crate::error::Result;

/// actix-session store backed by the `sessions` table.
#[derive(Clone)]
pub struct DbSessionStore {
    db: Db,
    /// Where the idle expiry each request extends is written (`storage::writer`).
    writer: Writer,
    /// The server's clock: idle expiry is judged by it, as every other expiry is.
    clock: Clock,
}

impl DbSessionStore {
    /// A store over this pool, judging expiry by `clock`.
    pub fn new(db: Db, clock: Clock) -> Self {
        Self {
            writer: Writer::direct(&db),
            db,
            clock,
        }
    }

    /// Extends idle expiries through `writer` (the server's one).
    pub fn with_writer(mut self, writer: Writer) -> Self {
        self.writer = writer;
        self
    }
}

fn row_id(key: &SessionKey) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(key.as_ref().as_bytes());
    let mut id = String::with_capacity(64);
    for b in digest {
        id.push(char::from(HEX[usize::from(b >> 4)]));
        id.push(char::from(HEX[usize::from(b & 15)]));
    }
    id
}

/// Extends the idle expiry of live sessions and says when they were last used: one statement
/// for every session touched at the same moment.
pub async fn touch(
    db: &impl ConnectionTrait,
    ids: &[&str],
    expires_at: i64,
    at: i64,
) -> Result<()> {
    sessions::Entity::update_many()
        .col_expr(sessions::Column::ExpiresAt, Expr::value(expires_at))
        .col_expr(sessions::Column::LastSeenAt, Expr::value(at))
        .filter(sessions::Column::Id.is_in(ids.iter().copied()))
        .filter(sessions::Column::ExpiresAt.gt(at))
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(())
}

type State = HashMap<String, String>;

/// The session-state entries the store copies into columns (named by the domain, which writes
/// them when someone signs in).
pub use crate::domain::browser_sessions::{STATE_IP, STATE_USER_AGENT};
pub use crate::domain::session_tokens::{STATE_SID, STATE_SIGNED_IN_AT, STATE_USER_ID};

/// The columns copied out of the state (actix-session stores each value as JSON).
struct Indexed {
    user_id: Option<String>,
    sid: Option<String>,
    signed_in_at: Option<i64>,
    user_agent: Option<String>,
    ip: Option<String>,
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
        // Bounded when the state is written; the column is never wider than that.
        user_agent: text(STATE_USER_AGENT)
            .map(|ua| bounded::truncate(&ua, bounded::USER_AGENT).to_owned()),
        ip: text(STATE_IP),
    }
}

impl SessionStore for DbSessionStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<State>, LoadError> {
        let row = sessions::Entity::find_by_id(row_id(key))
            .filter(sessions::Column::ExpiresAt.gt(self.clock.now()))
            .unique(&self.db)
            .await
            .map_err(|e| LoadError::Other(store_err(e)))?;
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
            user_agent: Set(cols.user_agent),
            ip_address: Set(cols.ip),
            last_seen_at: Set(Some(at)),
        })
        .exec_without_returning(&self.db)
        .await
        .map_err(|e| SaveError::Other(store_err(e)))?;
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
        let now = self.clock.now();
        let result = sessions::Entity::update_many()
            .col_expr(sessions::Column::State, Expr::value(body))
            .col_expr(sessions::Column::UserId, Expr::value(cols.user_id))
            .col_expr(sessions::Column::Sid, Expr::value(cols.sid))
            .col_expr(sessions::Column::SignedInAt, Expr::value(cols.signed_in_at))
            .col_expr(sessions::Column::UserAgent, Expr::value(cols.user_agent))
            .col_expr(sessions::Column::IpAddress, Expr::value(cols.ip))
            .col_expr(
                sessions::Column::ExpiresAt,
                Expr::value(now + ttl.whole_seconds()),
            )
            .col_expr(sessions::Column::LastSeenAt, Expr::value(now))
            .filter(sessions::Column::Id.eq(row_id(&key)))
            .filter(sessions::Column::ExpiresAt.gt(now))
            .exec(&self.db)
            .await
            .map_err(|e| UpdateError::Other(store_err(e)))?;
        if result.rows_affected == 1 {
            return Ok(key);
        }
        // The session expired or was removed meanwhile (sign-out everywhere, from another
        // browser): start a fresh one rather than revive it, so without its sign-in.
        let mut state = state;
        for k in [
            STATE_USER_ID,
            STATE_SIGNED_IN_AT,
            STATE_SID,
            STATE_USER_AGENT,
            STATE_IP,
        ] {
            state.remove(k);
        }
        self.save(state, ttl).await.map_err(|e| match e {
            SaveError::Serialization(e) => UpdateError::Serialization(e),
            SaveError::Other(e) => UpdateError::Other(e),
        })
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> Result<(), anyhow::Error> {
        // Every request of a session lands here (or in `update`): the one write that extends the
        // idle expiry also says when the session was last used.
        let at = self.clock.now();
        let touch = Write::TouchSession {
            id: row_id(key),
            expires_at: at + ttl.whole_seconds(),
            at,
        };
        self.writer
            .write(touch)
            .await
            .map_err(anyhow::Error::from)?;
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        sessions::Entity::delete_by_id(row_id(key))
            .exec(&self.db)
            .await
            .map_err(store_err)?;
        Ok(())
    }
}

/// A failure of the store as actix-session takes it. actix-session answers any store failure
/// with a bare 500 before a handler could say better, so an unreachable database is also noted
/// for the request (`runtime::outage`), whose middleware answers 503 instead.
fn store_err(err: sea_orm::DbErr) -> anyhow::Error {
    if super::is_unreachable(&err) {
        crate::runtime::outage::note();
    }
    err.into()
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

/// A person's live sessions: not idle past their expiry and signed in after `signed_in_after`
/// (their absolute lifetime), most recently used first.
pub async fn list_live(
    db: &Db,
    user_id: &str,
    signed_in_after: i64,
    at: i64,
) -> Result<Vec<LiveSession>> {
    let rows = sessions::Entity::find()
        .filter(sessions::Column::UserId.eq(user_id))
        .filter(sessions::Column::Sid.is_not_null())
        .filter(sessions::Column::ExpiresAt.gt(at))
        .filter(sessions::Column::SignedInAt.gt(signed_in_after))
        .all(db)
        .await
        .map_err(map_err)?;
    let mut live: Vec<LiveSession> = rows
        .into_iter()
        .filter_map(|r| {
            Some(LiveSession {
                sid: r.sid?,
                user_agent: r.user_agent,
                ip: r.ip_address,
                signed_in_at: r.signed_in_at.unwrap_or(r.created_at),
                // Sessions saved before the column existed: their last save is all we know.
                last_seen_at: r.last_seen_at.unwrap_or(r.created_at),
            })
        })
        .collect();
    live.sort_by(|a, b| {
        (b.last_seen_at, b.signed_in_at, &b.sid).cmp(&(a.last_seen_at, a.signed_in_at, &a.sid))
    });
    Ok(live)
}

/// Ends the live session `sid` of the person `user_id`; returns how many ended (0 or 1).
pub async fn delete_one(
    db: &impl ConnectionTrait,
    user_id: &str,
    sid: &str,
    at: i64,
) -> Result<u64> {
    let res = sessions::Entity::delete_many()
        .filter(sessions::Column::UserId.eq(user_id))
        .filter(sessions::Column::Sid.eq(sid))
        .filter(sessions::Column::ExpiresAt.gt(at))
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(res.rows_affected)
}

/// Ends every browser session of a person but `keep` (the one a request came from); returns how
/// many ended.
pub async fn delete_for_user_except(
    db: &impl ConnectionTrait,
    user_id: &str,
    keep: Option<&str>,
) -> Result<u64> {
    let mut doomed = sessions::Entity::delete_many().filter(sessions::Column::UserId.eq(user_id));
    if let Some(keep) = keep {
        doomed = doomed.filter(
            sea_orm::Condition::any()
                .add(sessions::Column::Sid.ne(keep))
                .add(sessions::Column::Sid.is_null()),
        );
    }
    let res = doomed.exec(db).await.map_err(map_err)?;
    Ok(res.rows_affected)
}
