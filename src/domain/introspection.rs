//! Introspection authority (RFC 7662): what an authenticated client may learn about a presented
//! token. `may_see` is the one rule; `introspect` applies it.
//!
//! RFC 7662 §2.2 answers `"active": false` when "the protected resource is not allowed to
//! introspect this particular token", and §4 warns that an endpoint open to any client lets it
//! scan for tokens. Here a client marked `resource_server` by a server administrator sees every
//! token and long-lived credential; any other confidential client sees only tokens issued to it,
//! and `{"active": false}` for everything else, exactly as for an unknown token, so it cannot tell
//! someone else's valid token from garbage. Public clients cannot authenticate, so they may not
//! introspect at all. Introspecting a credential never counts as using it
//! (`CredentialService::inspect`).

use crate::domain::client::Client;
use crate::domain::credentials::{Credential, CredentialService, Refusal};
use crate::domain::principal::Principal;
use crate::domain::scope::ScopeSet;
use crate::domain::secret_format;
use crate::domain::tokens::{ActiveToken, TokenService};
use crate::error::Result;

/// What was presented for introspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject<'a> {
    /// An access or refresh token issued to this client id (session tokens and tokens exchanged
    /// from a credential name their pseudo-client or the credential, never an app).
    IssuedTo(&'a str),
    /// A long-lived credential (`ck_live_…`, `sk-…`, `pt_…`, `usk_…`): held by a person, never
    /// issued to any client.
    Credential,
}

/// Whether `caller` may learn anything about `subject`.
pub fn may_see(caller: &Client, subject: Subject<'_>) -> bool {
    if caller.is_public {
        return false;
    }
    if caller.flags.resource_server {
        return true;
    }
    matches!(subject, Subject::IssuedTo(id) if id == caller.id)
}

/// The answer to an introspection request.
#[derive(Debug)]
pub enum Introspection {
    /// The caller may not use the endpoint (a public client).
    Refused,
    /// `{"active": false}`: unknown, expired, revoked, or not the caller's to see.
    Inactive,
    /// An active access or refresh token.
    Token(ActiveToken),
    /// An active long-lived credential, with what it may do now.
    Credential(Credential, ScopeSet),
}

/// Introspects `token` for `caller`, an authenticated client.
pub async fn introspect(
    tokens: &TokenService,
    credentials: &CredentialService,
    caller: &Client,
    token: &str,
) -> Result<Introspection> {
    let policy = credentials.policy();
    if caller.is_public {
        return Ok(Introspection::Refused);
    }
    // Opaque access tokens share the credential format but are tokens: `tokens.introspect`.
    if secret_format::check(token).is_ok_and(secret_format::Kind::is_credential) {
        // Decided before any lookup: a client that may not see credentials learns nothing, and
        // costs nothing, by presenting them.
        if !may_see(caller, Subject::Credential) {
            return Ok(Introspection::Inactive);
        }
        let c = match credentials.inspect(token).await {
            Ok(c) => c,
            Err(Refusal::Failed(e)) => return Err(e),
            Err(_) => return Ok(Introspection::Inactive),
        };
        // What it may do now: its owner's live role narrows it, and a departed owner ends it.
        return match policy.effective(Principal::from_credential(&c), None).await {
            Ok(p) => Ok(Introspection::Credential(c, p.scopes)),
            Err(Refusal::Failed(e)) => Err(e),
            Err(_) => Ok(Introspection::Inactive),
        };
    }
    let mut t = match tokens.introspect(token).await? {
        Some(t) if may_see(caller, Subject::IssuedTo(&t.client_id)) => t,
        _ => return Ok(Introspection::Inactive),
    };
    // A refresh token carries no principal: its account is checked here (a disabled
    // account's tokens are inactive while it stays disabled).
    if t.principal.is_none()
        && let Some(user_id) = crate::domain::user::User::id_from_public(&t.sub)
        && !policy.account_active(&user_id).await?
    {
        return Ok(Introspection::Inactive);
    }
    if let Some(p) = t.principal.take() {
        match policy.effective(p, None).await {
            Ok(p) => t.scope = p.scopes.to_string(),
            Err(Refusal::Failed(e)) => return Err(e),
            Err(_) => return Ok(Introspection::Inactive),
        }
    }
    Ok(Introspection::Token(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::client::{ClientFlags, ClientKind};
    use crate::domain::scope::ScopeSet;

    fn client(id: &str, public: bool, resource_server: bool) -> Client {
        Client {
            id: id.into(),
            owner_id: None,
            name: "App".into(),
            redirect_uris: vec![],
            scopes: ScopeSet::parse("read").unwrap(),
            grant_types: vec![],
            is_public: public,
            secret_hash: None,
            created_at: 0,
            kind: ClientKind::App,
            tenant_id: None,
            roles: vec![],
            flags: ClientFlags {
                resource_server,
                ..ClientFlags::default()
            },
            oidc: Default::default(),
            profile: Default::default(),
            previous_secret: None,
            access_token_format: Default::default(),
        }
    }

    #[test]
    fn an_ordinary_client_sees_only_its_own_tokens() {
        let c = client("mine", false, false);
        assert!(may_see(&c, Subject::IssuedTo("mine")));
        assert!(!may_see(&c, Subject::IssuedTo("theirs")));
        assert!(!may_see(&c, Subject::IssuedTo("portcullis-session")));
        assert!(!may_see(&c, Subject::Credential));
    }

    #[test]
    fn a_resource_server_sees_everything_and_a_public_client_nothing() {
        let rs = client("rs", false, true);
        assert!(may_see(&rs, Subject::IssuedTo("theirs")));
        assert!(may_see(&rs, Subject::Credential));
        let public = client("pub", true, false);
        assert!(!may_see(&public, Subject::IssuedTo("pub")));
    }
}
