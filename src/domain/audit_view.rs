//! The audit log as people read it: each event with its actor named (an account by its name and
//! the public id the account page shows, `usr_…`) and its user agent shortened to browser and
//! system. Listing and deciding who may read stay in `domain::audit`.

use std::collections::HashMap;

use crate::domain::audit::AuditEvent;
use crate::domain::context::Context;
use crate::domain::user::User;
use crate::domain::user_agent;
use crate::error::Result;

/// One event, ready to show.
#[derive(Debug, Clone)]
pub struct Shown {
    /// The event as stored.
    pub event: AuditEvent,
    /// The actor's name, when an account did it and still exists.
    pub actor_name: Option<String>,
    /// The actor's id as shown elsewhere (`usr_…` for an account, else as stored).
    pub actor_shown: Option<String>,
    /// "Chrome 126 on Linux", or empty.
    pub agent: String,
}

/// `events` with their actors named: one lookup per distinct account.
pub async fn shown(ctx: &Context, events: Vec<AuditEvent>) -> Result<Vec<Shown>> {
    let mut names: HashMap<String, Option<String>> = HashMap::new();
    for e in &events {
        if let (true, Some(id)) = (e.actor_type == "user", &e.actor_id)
            && !names.contains_key(id)
        {
            let name = crate::domain::accounts::find(ctx, id)
                .await?
                .map(|u| u.name);
            names.insert(id.clone(), name);
        }
    }
    Ok(events
        .into_iter()
        .map(|e| {
            let user = e.actor_type == "user";
            let actor_name = e
                .actor_id
                .as_ref()
                .filter(|_| user)
                .and_then(|id| names.get(id).cloned().flatten());
            let actor_shown = e.actor_id.as_ref().map(|id| {
                if user {
                    User::public_id_of(id)
                } else {
                    id.clone()
                }
            });
            let agent = e
                .user_agent
                .as_deref()
                .map(user_agent::short)
                .unwrap_or_default();
            Shown {
                event: e,
                actor_name,
                actor_shown,
                agent,
            }
        })
        .collect())
}
