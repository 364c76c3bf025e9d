//! The audit log's events: what happened, who did it, to what, from where. Domain operations
//! build them and hand them to the writer (`runtime::audit_writer`); this module also lists them.

use serde::Serialize;

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
            ip: meta.ip.clone(),
            user_agent: meta.user_agent.clone(),
            outcome: "success".into(),
            detail: None,
        }
    }

    /// Done by a user, about themselves.
    pub fn by_user(mut self, user_id: &str) -> Self {
        self.actor_type = "user".into();
        self.actor_id = Some(user_id.to_owned());
        self.subject_user_id = Some(user_id.to_owned());
        self
    }

    /// Done by some actor.
    pub fn by(mut self, actor_type: &str, actor_id: &str) -> Self {
        self.actor_type = actor_type.to_owned();
        self.actor_id = Some(actor_id.to_owned());
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
        self.subject_user_id = user_id.map(str::to_owned);
        self
    }

    /// In this tenant.
    pub fn tenant(mut self, tenant_id: Option<&str>) -> Self {
        self.tenant_id = tenant_id.map(str::to_owned);
        self
    }

    /// Done to this.
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    /// It failed.
    pub fn failed(mut self) -> Self {
        self.outcome = "failure".into();
        self
    }

    /// Extra facts.
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Events about this account only.
    pub subject_user_id: Option<String>,
    /// Of this type.
    pub event_type: Option<String>,
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
