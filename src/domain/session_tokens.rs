//! Session tokens: short-lived access tokens a signed-in person creates for Swagger UI, acting
//! fully as them. Each belongs to the browser session that created it and ends with it:
//!
//! - sign-out, "sign out everywhere" and revoking it from the account page or `/oauth/revoke`
//!   mark it revoked and enter its `jti` among the revoked access tokens, so the next call with
//!   it fails through the same cached check every revoked token meets;
//! - the session's idle and absolute expiry happen without any request to act on, so
//!   verification of a token carrying `sid` also asks whether its session is still alive, a
//!   verdict cached like the others (see `TokenService::is_revoked`). Its lifetime is also capped
//!   at the session's absolute end, so `exp` never promises more than the session can give.
//!
//! Only the token's id is stored, never the token.

use crate::domain::audit::AuditEvent;
use crate::domain::context::Context;
use crate::domain::exchange::SESSION_CLIENT;
use crate::domain::tokens::{BearerError, Mint, TokenService};
use crate::domain::user::User;
use crate::error::{AppError, Result};
use crate::runtime::invalidation::Stale;
use crate::storage;

/// Lifetime of a session token, at most (the session may end sooner).
pub const SESSION_TOKEN_TTL: i64 = 3600;

/// Longest label, in characters.
const MAX_NAME: usize = 100;

/// A minted session token, as recorded (no secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionToken {
    /// The token's `jti`.
    pub jti: String,
    /// Its owner.
    pub user_id: String,
    /// The browser session it belongs to.
    pub sid: String,
    /// Optional label.
    pub name: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

/// Which live session tokens to end.
#[derive(Debug, Clone, Copy)]
pub enum Which<'a> {
    /// One token of a person.
    One {
        /// Its owner (a person can end only their own).
        user_id: &'a str,
        /// Its id.
        jti: &'a str,
    },
    /// Every token of a browser session.
    Session(&'a str),
    /// Every token of a person.
    User(&'a str),
}

/// Who ended a token, for the audit log: (actor type, actor id).
type Actor<'a> = (&'a str, &'a str);

/// Session-state entry holding the signed-in account's id.
pub const STATE_USER_ID: &str = "uid";
/// Session-state entry holding the sign-in time (Unix seconds).
pub const STATE_SIGNED_IN_AT: &str = "auth_at";
/// Session-state entry holding the session's public id: random, not the cookie key nor
/// derived from it, so a token that names its session cannot be turned into the cookie.
pub const STATE_SID: &str = "sid";
/// Session-state entry holding how the person signed in (`AuthMethods`, a JSON list).
pub const STATE_METHODS: &str = "amr";

/// The signed-in browser session a token is created from.
#[derive(Debug, Clone)]
pub struct BrowserSession {
    /// The session's public id (random; not the cookie key).
    pub id: String,
    /// When the person signed in (Unix seconds).
    pub signed_in_at: i64,
    /// How they signed in (empty for sessions from before methods were kept: a password).
    pub methods: crate::domain::auth_methods::AuthMethods,
}

/// Creating, listing and ending session tokens; cheap to clone.
#[derive(Clone)]
pub struct SessionTokens {
    ctx: Context,
    tokens: TokenService,
    session_max: i64,
}

impl SessionTokens {
    /// Builds the service; `session_max` is the browser sessions' absolute lifetime (seconds).
    pub fn new(ctx: Context, tokens: TokenService, session_max: i64) -> Self {
        Self {
            ctx,
            tokens,
            session_max,
        }
    }

    /// Mints a token acting fully as `user` in `tenant_id`, tied to `session`.
    pub async fn issue(
        &self,
        user: &User,
        tenant_id: &str,
        session: &BrowserSession,
        name: &str,
    ) -> Result<(String, SessionToken)> {
        let name = name.trim();
        if name.chars().count() > MAX_NAME {
            return Err(AppError::validation(
                "name",
                format!("The label may have at most {MAX_NAME} characters."),
            ));
        }
        let ttl = SESSION_TOKEN_TTL.min(session.signed_in_at + self.session_max - self.ctx.now());
        if ttl <= 0 {
            return Err(AppError::Unauthenticated(
                "Your session has ended. Sign in again.".into(),
            ));
        }
        let all = crate::domain::scope::ScopeSet::all().to_string();
        let (token, claims) = self.tokens.mint_with(Mint {
            owner_id: &user.id,
            client_id: SESSION_CLIENT,
            scope: &all,
            tid: Some(tenant_id.to_owned()),
            ttl: Some(ttl),
            grant: "session",
            sid: Some(session.id.clone()),
            ..Mint::default()
        })?;
        let record = SessionToken {
            jti: claims.jti,
            user_id: user.id.clone(),
            sid: session.id.clone(),
            name: (!name.is_empty()).then(|| name.to_owned()),
            created_at: claims.iat,
            expires_at: claims.exp,
        };
        storage::session_tokens::insert(self.ctx.db(), &record).await?;
        Ok((token, record))
    }

    /// A person's session tokens that still work, newest first.
    pub async fn list(&self, user_id: &str) -> Result<Vec<SessionToken>> {
        storage::session_tokens::list_live(
            self.ctx.db(),
            user_id,
            self.ctx.now() - self.session_max,
            self.ctx.now(),
        )
        .await
    }

    /// Revokes one of a person's tokens; `NotFound` when they hold no such live token.
    pub async fn revoke(&self, user_id: &str, jti: &str) -> Result<()> {
        let which = Which::One { user_id, jti };
        if self.end(which, "revoked", ("user", user_id)).await? == 0 {
            return Err(AppError::NotFound("Session token"));
        }
        Ok(())
    }

    /// Sign-out: ends the tokens of the browser session `sid` (the caller ends the session
    /// itself) and records the sign-out of `user_id`, when someone was signed in.
    pub async fn sign_out(&self, user_id: Option<&str>, sid: Option<&str>) -> Result<()> {
        if let Some(user_id) = user_id {
            self.ctx
                .record(AuditEvent::here("signout").by_user(user_id));
            if let Some(sid) = sid {
                self.end(Which::Session(sid), "signout", ("user", user_id))
                    .await?;
            }
        }
        Ok(())
    }

    /// Ends every browser session of a person and every session token they hold.
    pub async fn sign_out_everywhere(&self, user_id: &str) -> Result<()> {
        let (sessions, tokens) =
            storage::session_tokens::end_every_session(self.ctx.db(), user_id, self.ctx.now())
                .await?;
        self.ctx.caches().invalidate(Stale::REVOKED);
        self.ctx.record(
            AuditEvent::here("session.signed_out_everywhere")
                .by_user(user_id)
                .detail(serde_json::json!({"sessions": sessions, "session_tokens": tokens.len()})),
        );
        self.audit_revoked(&tokens, "signed_out_everywhere", ("user", user_id));
        Ok(())
    }

    /// RFC 7009 for the session pseudo-client: presenting a session token is proof enough to
    /// revoke it, as for a public client. Anything else (other clients' tokens, credentials,
    /// refresh tokens, dead tokens) is left alone; the caller answers 200 all the same (§2.2).
    pub async fn revoke_presented(&self, token: &str) -> Result<()> {
        let claims = match self.tokens.verify_bearer(token).await {
            Ok(claims) => claims,
            // Whether it is still live is unknown: say so rather than claim it was revoked.
            Err(BearerError::Unchecked(e)) => return Err(e),
            Err(BearerError::Expired | BearerError::Invalid) => return Ok(()),
        };
        if claims.client_id != SESSION_CLIENT {
            return Ok(());
        }
        if claims.sid.is_none() {
            // Minted before tokens were tied to sessions: no record, only its id to revoke.
            return self.tokens.revoke(SESSION_CLIENT, token).await;
        }
        let Some(user_id) = User::id_from_public(&claims.sub) else {
            return Ok(());
        };
        let which = Which::One {
            user_id: &user_id,
            jti: &claims.jti,
        };
        self.end(which, "oauth_revoke", ("client", SESSION_CLIENT))
            .await?;
        Ok(())
    }

    /// Revokes what `which` names, drops cached verdicts, audits; returns how many.
    async fn end(&self, which: Which<'_>, reason: &str, by: Actor<'_>) -> Result<usize> {
        let ended = storage::session_tokens::revoke(self.ctx.db(), which, self.ctx.now()).await?;
        if !ended.is_empty() {
            self.ctx.caches().invalidate(Stale::REVOKED);
        }
        self.audit_revoked(&ended, reason, by);
        Ok(ended.len())
    }

    fn audit_revoked(&self, tokens: &[SessionToken], reason: &str, by: Actor<'_>) {
        record_revoked(&self.ctx, tokens, reason, by);
    }
}

/// Records `session_token.revoked` for each of `tokens`, ended for `reason` by `by` (actor type,
/// actor id): whichever operation ended them, the log says so the same way.
pub(crate) fn record_revoked(
    ctx: &Context,
    tokens: &[SessionToken],
    reason: &str,
    (kind, id): Actor<'_>,
) {
    for t in tokens {
        ctx.record(
            AuditEvent::here("session_token.revoked")
                .by(kind, id)
                .about(Some(&t.user_id))
                .target(format!("token:{}", t.jti))
                .detail(serde_json::json!({"reason": reason})),
        );
    }
}
