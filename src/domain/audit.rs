//! The audit log's events: what happened, who did it, to what, from where. Domain operations
//! build them and hand them to the writer (`runtime::audit_writer`); this module also lists them.
//! The builder bounds every field it is given (`domain::bounded`): whoever builds an event, a
//! value sent by a stranger is stored cut short or as a prefix plus a hash, never whole.

use std::borrow::Cow;

use serde::Serialize;

use crate::domain::bounded;
use crate::domain::context::{Actor, Context};
use crate::domain::policy::ServerAction;
use crate::domain::principal::Principal;
use crate::domain::user::User;
use crate::error::Result;
use crate::storage;

/// One security event.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEvent {
    /// UUID v7 (time-ordered; also the pagination cursor).
    pub id: String,
    /// Unix seconds; set when the event is recorded (`Auditor::record`), by the server's clock.
    pub at: i64,
    /// What happened, e.g. `signin.failure`, `credential.created`, `token.issued`.
    pub event_type: String,
    /// `user`, `credential`, `client`, `cli` (the operator at the server's command line) or
    /// `anonymous`.
    pub actor_type: String,
    /// Who did it (an id, never a secret).
    pub actor_id: Option<String>,
    /// The account the event concerns (whose security log shows it).
    pub subject_user_id: Option<String>,
    /// Tenant.
    pub tenant_id: Option<String>,
    /// What it was done to, e.g. `credential:<id>`.
    pub target: Option<String>,
    /// Source address.
    pub ip: Option<String>,
    /// Source user agent.
    pub user_agent: Option<String>,
    /// `success` or `failure`.
    pub outcome: String,
    /// Extra facts (grant type, scopes...), never secrets.
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
}

pub use super::event_types::EVENT_TYPES;

tokio::task_local! {
    static META: Meta;
}

/// Runs `fut` with `meta` as the request's origin, so events recorded deep in the domain carry
/// the address and user agent without threading them through every call.
pub async fn with_meta<F: std::future::Future>(meta: Meta, fut: F) -> F::Output {
    META.scope(meta, fut).await
}

/// Where a request came from.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    /// Client address.
    pub ip: Option<String>,
    /// User agent.
    pub user_agent: Option<String>,
}

impl Meta {
    /// The origin of the request being handled (empty outside one).
    pub fn current() -> Meta {
        META.try_with(Clone::clone).unwrap_or_default()
    }
}

impl AuditEvent {
    /// A successful event of `event_type` from the current request's origin.
    pub fn here(event_type: &str) -> Self {
        Self::new(event_type, &Meta::current())
    }

    /// A successful event of `event_type`, by nobody yet; timed when it is recorded.
    pub fn new(event_type: &str, meta: &Meta) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            at: 0,
            event_type: event_type.to_owned(),
            actor_type: "anonymous".into(),
            actor_id: None,
            subject_user_id: None,
            tenant_id: None,
            target: None,
            ip: meta.ip.as_deref().map(|ip| bounded::id(ip).into_owned()),
            user_agent: meta
                .user_agent
                .as_deref()
                .map(|ua| text(bounded::truncate(ua, bounded::USER_AGENT))),
            outcome: "success".into(),
            detail: None,
        }
    }

    /// Done by a user, about themselves.
    pub fn by_user(mut self, user_id: &str) -> Self {
        self.actor_type = "user".into();
        self.actor_id = Some(id(user_id));
        self.subject_user_id = Some(id(user_id));
        self
    }

    /// Done by some actor.
    pub fn by(mut self, actor_type: &str, actor_id: &str) -> Self {
        self.actor_type = id(actor_type);
        self.actor_id = Some(id(actor_id));
        self
    }

    /// Done by the operator at the server's command line (`portcullis ...`), who has no account.
    pub fn by_cli(mut self) -> Self {
        self.actor_type = "cli".into();
        self.actor_id = None;
        self
    }

    /// Concerning this account.
    pub fn about(mut self, user_id: Option<&str>) -> Self {
        self.subject_user_id = user_id.map(id);
        self
    }

    /// In this tenant.
    pub fn tenant(mut self, tenant_id: Option<&str>) -> Self {
        self.tenant_id = tenant_id.map(id);
        self
    }

    /// Done to this (`kind:id`).
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(id(&target.into()));
        self
    }

    /// It failed.
    pub fn failed(mut self) -> Self {
        self.outcome = "failure".into();
        self
    }

    /// Extra facts; long strings in them are fingerprinted and an oversized whole replaced.
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(bounded::detail(detail));
        self
    }

    /// The event with every field bounded again, for the writer: a field set directly rather
    /// than through the builder is bounded too (bounding twice changes nothing).
    pub fn bounded(mut self) -> Self {
        let ids = [
            &mut self.actor_id,
            &mut self.subject_user_id,
            &mut self.tenant_id,
            &mut self.target,
            &mut self.ip,
        ];
        for field in ids.into_iter().flatten() {
            if let Cow::Owned(f) = bounded::id(field) {
                *field = f;
            }
        }
        for field in [
            &mut self.event_type,
            &mut self.actor_type,
            &mut self.outcome,
        ] {
            if let Cow::Owned(f) = bounded::id(field) {
                *field = f;
            }
        }
        if let Some(ua) = &mut self.user_agent {
            *ua = text(bounded::truncate(ua, bounded::USER_AGENT));
        }
        self.detail = self.detail.map(bounded::detail);
        self
    }

    /// Bytes of text the event holds (ids, user agent, detail): what the writer's queue counts.
    pub fn text_bytes(&self) -> usize {
        let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        self.id.len()
            + self.event_type.len()
            + self.actor_type.len()
            + self.outcome.len()
            + opt(&self.actor_id)
            + opt(&self.subject_user_id)
            + opt(&self.tenant_id)
            + opt(&self.target)
            + opt(&self.ip)
            + opt(&self.user_agent)
            + self
                .detail
                .as_ref()
                .and_then(|d| serde_json::to_string(d).ok())
                .map_or(0, |d| d.len())
    }
}

/// An identifier bounded for storage.
fn id(s: &str) -> String {
    bounded::id(s).into_owned()
}

/// Free text with control characters replaced (a user agent may hold any visible byte).
fn text(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Events about this account only.
    pub subject_user_id: Option<String>,
    /// Of this type.
    pub event_type: Option<String>,
    /// Of a type starting with this (`token.` matches `token.issued` and `token.failure`).
    pub event_prefix: Option<String>,
    /// By this actor.
    pub actor_id: Option<String>,
    /// At or after (Unix seconds).
    pub since: Option<i64>,
    /// Before (Unix seconds).
    pub until: Option<i64>,
    /// Older than this event id.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: u64,
}

impl Filter {
    /// This filter narrowed by what a person typed or picked as the type: a known type is
    /// matched exactly, anything else as the start of a type. Blank leaves it as it is.
    pub fn of_type(mut self, raw: &str) -> Self {
        let raw = raw.trim();
        if raw.is_empty() {
            return self;
        }
        if EVENT_TYPES.contains(&raw) {
            self.event_type = Some(raw.to_owned());
        } else {
            self.event_prefix = Some(bounded::id(raw).into_owned());
        }
        self
    }

    /// This filter narrowed to one actor, given by the id the pages show (`usr_…` for an
    /// account) or as stored.
    pub fn by_actor(mut self, raw: &str) -> Self {
        let raw = raw.trim();
        if !raw.is_empty() {
            let stored = User::id_from_public(raw).unwrap_or_else(|| raw.to_owned());
            self.actor_id = Some(bounded::id(&stored).into_owned());
        }
        self
    }
}

/// Most events one export holds: a bigger range is exported in parts, by narrowing the dates.
pub const EXPORT_MAX: u64 = 10_000;

/// Every event matching `filter`, newest first, up to `EXPORT_MAX` (administrators): what the
/// export of the filtered log holds.
pub async fn export_for(ctx: &Context, user: &User, filter: &Filter) -> Result<Vec<AuditEvent>> {
    ctx.policy()
        .authorize_server(Actor::User(user), ServerAction::ReadAuditLog)?;
    ctx.flush().await;
    let filter = Filter {
        cursor: None,
        ..filter.clone()
    };
    storage::audit::list_events(ctx.db(), &filter, EXPORT_MAX).await
}

/// The whole log, filtered (an API caller the policy lets read it): a page of events, newest
/// first, and the cursor for the next page. Everything recorded so far is written first.
pub async fn list_all(
    ctx: &Context,
    caller: &Principal,
    filter: &Filter,
) -> Result<(Vec<AuditEvent>, Option<String>)> {
    ctx.policy()
        .authorize_server_caller(caller, ServerAction::ReadAuditLog)
        .await?;
    list(ctx, filter).await
}

/// `list_all` for a signed-in person (Admin → Audit log).
pub async fn list_all_for(
    ctx: &Context,
    user: &User,
    filter: &Filter,
) -> Result<(Vec<AuditEvent>, Option<String>)> {
    ctx.policy()
        .authorize_server(Actor::User(user), ServerAction::ReadAuditLog)?;
    list(ctx, filter).await
}

/// A person's own security log: the events about their account, whatever else `filter` says.
pub async fn list_own(
    ctx: &Context,
    user: &User,
    filter: Filter,
) -> Result<(Vec<AuditEvent>, Option<String>)> {
    let filter = Filter {
        subject_user_id: Some(user.id.clone()),
        ..filter
    };
    list(ctx, &filter).await
}

/// A page of events, newest first, and the cursor for the next page.
async fn list(ctx: &Context, filter: &Filter) -> Result<(Vec<AuditEvent>, Option<String>)> {
    ctx.flush().await;
    let mut events = storage::audit::list_events(ctx.db(), filter, filter.limit + 1).await?;
    let next = if events.len() as u64 > filter.limit {
        events.truncate(filter.limit as usize);
        events.last().map(|e| e.id.clone())
    } else {
        None
    };
    Ok((events, next))
}
