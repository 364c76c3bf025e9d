//! Remembered consent: a person approves an app for some scopes once; later requests of a
//! confidential app for the same or fewer scopes skip the consent page unless the app sends
//! `prompt=consent`. Public clients are asked every time; first-party apps never (`needs_prompt`).
//! Answering the consent page and withdrawing consent record their own audit events.

use crate::domain::audit::AuditEvent;
use crate::domain::client::Client;
use crate::domain::context::Context;
use crate::domain::scope::ScopeSet;
use crate::error::Result;
use crate::runtime::invalidation::Stale;
use crate::storage;

/// A person's standing approval of a client.
#[derive(Debug, Clone)]
pub struct Consent {
    /// The person.
    pub user_id: String,
    /// The client.
    pub client_id: String,
    /// Scopes approved so far.
    pub scopes: ScopeSet,
    /// First approval, Unix seconds.
    pub created_at: i64,
    /// Latest approval, Unix seconds.
    pub updated_at: i64,
}

/// Whether a request needs the consent page, and for which scopes it is new.
///
/// - A first-party app (marked by a server administrator) belongs to the deployment: people are
///   never asked to consent to it.
/// - A public client sees the page on every authorization, even when a remembered grant covers
///   the scopes: nothing proves the request comes from the app people approved and not from
///   another program using its client id (RFC 6749 §10.2, RFC 8252 §8.6).
/// - A confidential app skips the page when a remembered grant covers the scopes, unless it sent
///   `prompt=consent`.
pub fn needs_prompt(
    client: &Client,
    existing: Option<&Consent>,
    requested: &ScopeSet,
    prompt_consent: bool,
) -> Option<ScopeSet> {
    if client.flags.first_party {
        return None;
    }
    match existing {
        Some(c) if !prompt_consent && !client.is_public && c.scopes.contains_all(requested) => None,
        Some(c) => Some(requested.minus(&c.scopes)),
        None => Some(requested.clone()),
    }
}

/// The consent a person gave a client, if any.
pub async fn find(ctx: &Context, user_id: &str, client_id: &str) -> Result<Option<Consent>> {
    storage::consents::find_consent(ctx.db(), user_id, client_id).await
}

/// A person's answer on the consent page: approving remembers `scopes`, added to what was
/// approved before; either answer is recorded (`consent.granted`, `consent.denied`).
pub async fn answer(
    ctx: &Context,
    user_id: &str,
    client: &Client,
    scopes: &ScopeSet,
    allowed: bool,
) -> Result<()> {
    let event = AuditEvent::here(if allowed {
        "consent.granted"
    } else {
        "consent.denied"
    })
    .by_user(user_id)
    .target(format!("client:{}", client.id))
    .detail(serde_json::json!({"scope": scopes.to_string()}));
    ctx.record(if allowed { event } else { event.failed() });
    if allowed {
        let merged = match find(ctx, user_id, &client.id).await? {
            Some(c) => c.scopes.union(scopes),
            None => scopes.clone(),
        };
        storage::consents::upsert_consent(ctx.db(), user_id, &client.id, &merged, ctx.now())
            .await?;
    }
    Ok(())
}

/// Withdraws a person's consent for a client and revokes every token the client holds for them.
/// A consent that does not exist is `NotFound` (and so nothing is recorded).
pub async fn revoke(ctx: &Context, user_id: &str, client_id: &str) -> Result<()> {
    if !storage::consents::delete_consent(ctx.db(), user_id, client_id).await? {
        return Err(crate::error::AppError::NotFound("Authorized app"));
    }
    storage::tokens::revoke_families_of(ctx.db(), user_id, client_id, ctx.now()).await?;
    ctx.caches().invalidate(Stale::REVOKED);
    ctx.record(
        AuditEvent::here("consent.revoked")
            .by_user(user_id)
            .target(format!("client:{client_id}")),
    );
    Ok(())
}

/// A person's consents with the clients they name (`None` for a client since deleted).
pub async fn list_with_clients(
    ctx: &Context,
    user_id: &str,
) -> Result<Vec<(Consent, Option<Client>)>> {
    let mut out = Vec::new();
    for c in storage::consents::list_consents(ctx.db(), user_id).await? {
        let client = storage::clients::find_client(ctx.db(), &c.client_id).await?;
        out.push((c, client));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::client::{ClientFlags, ClientKind};

    fn consent(scopes: &str) -> Consent {
        Consent {
            user_id: "u".into(),
            client_id: "c".into(),
            scopes: ScopeSet::parse(scopes).unwrap(),
            created_at: 0,
            updated_at: 0,
        }
    }

    fn client(public: bool, first_party: bool) -> Client {
        Client {
            id: "c".into(),
            owner_id: None,
            name: "App".into(),
            redirect_uris: vec![],
            scopes: ScopeSet::parse("read write admin").unwrap(),
            grant_types: vec![],
            is_public: public,
            secret_hash: None,
            created_at: 0,
            kind: ClientKind::App,
            tenant_id: None,
            roles: vec![],
            flags: ClientFlags {
                first_party,
                ..ClientFlags::default()
            },
            oidc: Default::default(),
            profile: Default::default(),
            previous_secret: None,
            access_token_format: Default::default(),
        }
    }

    fn read() -> ScopeSet {
        ScopeSet::parse("read").unwrap()
    }

    #[test]
    fn a_public_client_is_asked_even_with_a_remembered_grant() {
        let public = client(true, false);
        let c = consent("read write");
        let shown = needs_prompt(&public, Some(&c), &read(), false).unwrap();
        assert!(shown.is_empty(), "nothing new: {shown}");
    }

    #[test]
    fn a_first_party_app_is_never_asked() {
        for public in [true, false] {
            let app = client(public, true);
            assert!(needs_prompt(&app, None, &read(), false).is_none());
            assert!(needs_prompt(&app, None, &read(), true).is_none());
        }
    }

    #[test]
    fn same_or_fewer_scopes_skip_the_page() {
        let app = client(false, false);
        let c = consent("read write");
        assert!(needs_prompt(&app, Some(&c), &read(), false).is_none());
        let both = ScopeSet::parse("read write").unwrap();
        assert!(needs_prompt(&app, Some(&c), &both, false).is_none());
    }

    #[test]
    fn more_scopes_or_prompt_consent_show_it() {
        let app = client(false, false);
        let c = consent("read");
        let more = ScopeSet::parse("read admin").unwrap();
        let new = needs_prompt(&app, Some(&c), &more, false).unwrap();
        assert_eq!(new.to_string(), "admin");
        assert!(needs_prompt(&app, Some(&c), &read(), true).is_some());
        assert!(needs_prompt(&app, None, &read(), false).is_some());
    }
}
