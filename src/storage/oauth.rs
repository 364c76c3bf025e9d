//! oxide-auth's primitives over Portcullis storage, through oxide-auth-async's async traits, so
//! database work never blocks an actix worker (oxide-auth's own traits are synchronous).
//!
//! They are built per request by `http::oauth::endpoint`. The client has already been resolved
//! (authorization) or authenticated (token endpoint) before a flow runs, so the `Registrar`
//! works from that one record instead of querying again; the `Authorizer` and `Issuer` delegate
//! to `domain::tokens`, which owns single use, rotation and revocation.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use oxide_auth::primitives::grant::{Extensions, Grant, Value};
use oxide_auth::primitives::issuer::{IssuedToken, RefreshedToken, TokenType};
use oxide_auth::primitives::registrar::{
    BoundClient, ClientUrl, ExactUrl, PreGrant, RegisteredUrl, RegistrarError,
};
use oxide_auth::primitives::scope::Scope;
use oxide_auth_async::primitives::{Authorizer, Issuer, Registrar};
use serde::{Deserialize, Serialize};

use crate::domain::client::{Client, ClientKind, GrantType};
use crate::domain::roles::RoleClaim;
use crate::domain::scope::ScopeSet;
use crate::domain::tokens::{CodeRecord, Mint, RefreshRecord, TokenService};

/// Placeholder redirect URI for grants recovered from refresh tokens (oxide-auth's `Grant`
/// requires one; the refresh flow never uses it).
const NO_REDIRECT: &str = "urn:ietf:wg:oauth:2.0:oob";

/// The family of the code being exchanged in this request, passed from the `Authorizer` (which
/// redeems the code) to the `Issuer` (which mints tokens into that family).
pub type FamilySlot = Arc<Mutex<Option<String>>>;

/// A registrar that knows exactly one, already verified, client.
pub struct ClientRegistrar {
    client: Client,
}

impl ClientRegistrar {
    /// Wraps the resolved client.
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl Registrar for ClientRegistrar {
    async fn bound_redirect<'a>(
        &self,
        bound: ClientUrl<'a>,
    ) -> Result<BoundClient<'a>, RegistrarError> {
        if bound.client_id.as_ref() != self.client.id {
            return Err(RegistrarError::Unspecified);
        }
        let requested = bound.redirect_uri.as_ref().map(|u| u.as_str().to_owned());
        let resolved = match (
            self.client.resolve_redirect(requested.as_deref()),
            requested,
        ) {
            (Some(uri), _) => uri,
            // The client-credentials flow binds a redirect URI it never uses; authorization
            // requests without one were already refused unless exactly one is registered.
            (None, None) => NO_REDIRECT.to_owned(),
            (None, Some(_)) => return Err(RegistrarError::Unspecified),
        };
        let exact: ExactUrl = resolved.parse().map_err(|_| RegistrarError::Unspecified)?;
        Ok(BoundClient {
            client_id: bound.client_id,
            redirect_uri: Cow::Owned(RegisteredUrl::Exact(exact)),
        })
    }

    async fn negotiate<'a>(
        &self,
        bound: BoundClient<'a>,
        scope: Option<Scope>,
    ) -> Result<PreGrant, RegistrarError> {
        let scopes = match scope {
            Some(s) => ScopeSet::parse(&s.to_string()).map_err(|_| RegistrarError::Unspecified)?,
            None => self.client.scopes.clone(),
        };
        if !self.client.scopes.contains_all(&scopes) {
            return Err(RegistrarError::Unspecified);
        }
        Ok(PreGrant {
            client_id: bound.client_id.into_owned(),
            redirect_uri: bound.redirect_uri.into_owned(),
            scope: to_scope(&scopes.to_string())?,
        })
    }

    async fn check(
        &self,
        client_id: &str,
        _passphrase: Option<&[u8]>,
    ) -> Result<(), RegistrarError> {
        // The secret was verified before the flow started (see module doc).
        if client_id == self.client.id {
            Ok(())
        } else {
            Err(RegistrarError::Unspecified)
        }
    }
}

fn to_scope(s: &str) -> Result<Scope, RegistrarError> {
    // oxide-auth's Scope cannot be empty-string parsed on every version; keep a token.
    s.parse().map_err(|_| RegistrarError::Unspecified)
}

/// Stores and redeems authorization codes.
pub struct CodeAuthorizer {
    tokens: TokenService,
    family: FamilySlot,
}

impl CodeAuthorizer {
    /// A code store sharing `family` with the issuer of the same request.
    pub fn new(tokens: TokenService, family: FamilySlot) -> Self {
        Self { tokens, family }
    }
}

#[async_trait]
impl Authorizer for CodeAuthorizer {
    async fn authorize(&mut self, grant: Grant) -> Result<String, ()> {
        let record = CodeRecord {
            client_id: grant.client_id,
            user_id: grant.owner_id,
            redirect_uri: grant.redirect_uri.to_string(),
            scope: grant.scope.to_string(),
            extensions: extensions_to_json(&grant.extensions)?,
            expires_at: grant.until.timestamp(),
            family_id: String::new(),
        };
        self.tokens.create_code(record).await.map_err(log)
    }

    async fn extract(&mut self, code: &str) -> Result<Option<Grant>, ()> {
        let Some(rec) = self.tokens.redeem_code(code).await.map_err(log)? else {
            return Ok(None);
        };
        if let Ok(mut slot) = self.family.lock() {
            *slot = Some(rec.family_id.clone());
        }
        Ok(Some(Grant {
            owner_id: rec.user_id,
            client_id: rec.client_id,
            scope: rec.scope.parse().map_err(|_| ())?,
            redirect_uri: rec.redirect_uri.parse().map_err(|_| ())?,
            until: Utc.timestamp_opt(rec.expires_at, 0).single().ok_or(())?,
            extensions: extensions_from_json(&rec.extensions)?,
        }))
    }
}

/// Set when a refresh token lost a rotation race (a concurrent reuse). oxide-auth's `Issuer`
/// can only fail with `()`, which it reports as a server error; the token endpoint reads this
/// flag to answer `invalid_grant` instead.
pub type RefusedFlag = Arc<AtomicBool>;

/// Mints JWT access tokens and opaque, rotating refresh tokens.
pub struct TokenIssuer {
    tokens: TokenService,
    family: FamilySlot,
    client: Client,
    refused: RefusedFlag,
    /// The refresh token oxide-auth recovered and will ask to rotate, with its record: one
    /// lookup serves both steps.
    recovered: Option<(String, RefreshRecord)>,
}

impl TokenIssuer {
    /// An issuer for this request's authenticated client.
    pub fn new(
        tokens: TokenService,
        family: FamilySlot,
        client: Client,
        refused: RefusedFlag,
    ) -> Self {
        Self {
            tokens,
            family,
            client,
            refused,
            recovered: None,
        }
    }

    fn until(&self) -> chrono::DateTime<Utc> {
        Utc::now() + chrono::Duration::seconds(self.tokens.access_ttl())
    }
}

#[async_trait]
impl Issuer for TokenIssuer {
    async fn issue(&mut self, grant: Grant) -> Result<IssuedToken, ()> {
        let family = self.family.lock().ok().and_then(|mut s| s.take());
        let scope = grant.scope.to_string();
        let system = self.client.kind == ClientKind::System;
        let (token, _) = self
            .tokens
            .mint_with(Mint {
                owner_id: &grant.owner_id,
                client_id: &grant.client_id,
                scope: &scope,
                gid: family.clone(),
                tid: self.client.tenant_id.clone(),
                roles: system.then(|| self.client.roles.iter().map(RoleClaim::from).collect()),
                grant: if family.is_some() {
                    "authorization_code"
                } else {
                    "client_credentials"
                },
                ..Mint::default()
            })
            .map_err(log)?;
        // Refresh tokens only for code grants (never for client_credentials, RFC 6749 §4.4.3).
        let refresh = match family {
            Some(fam) if self.client.allows(GrantType::RefreshToken) => Some(
                self.tokens
                    .issue_refresh(&fam, &grant.client_id, &grant.owner_id, &scope)
                    .await
                    .map_err(log)?
                    .expose()
                    .to_owned(),
            ),
            _ => None,
        };
        Ok(IssuedToken {
            token,
            refresh,
            until: self.until(),
            token_type: TokenType::Bearer,
        })
    }

    async fn refresh(&mut self, old: &str, grant: Grant) -> Result<RefreshedToken, ()> {
        let known = match self.recovered.take() {
            Some((token, rec)) if token == old => Some(rec),
            // oxide-auth recovers the token before refreshing it; look it up if it ever doesn't.
            _ => self.tokens.recover_refresh(old).await.map_err(log)?,
        };
        let Some(known) = known else {
            self.refused.store(true, Ordering::Relaxed);
            return Err(());
        };
        let Some(rec) = self.tokens.rotate_refresh(old, known).await.map_err(log)? else {
            self.refused.store(true, Ordering::Relaxed);
            return Err(());
        };
        // The access token may be narrowed; the new refresh token keeps the grant's full scope
        // (RFC 6749 §6).
        let (token, _) = self
            .tokens
            .mint_with(Mint {
                owner_id: &rec.user_id,
                client_id: &rec.client_id,
                scope: &grant.scope.to_string(),
                gid: Some(rec.family_id.clone()),
                grant: "refresh_token",
                ..Mint::default()
            })
            .map_err(log)?;
        let refresh = self
            .tokens
            .issue_refresh(&rec.family_id, &rec.client_id, &rec.user_id, &rec.scope)
            .await
            .map_err(log)?;
        Ok(RefreshedToken {
            token,
            refresh: Some(refresh.expose().to_owned()),
            until: self.until(),
            token_type: TokenType::Bearer,
        })
    }

    async fn recover_token(&mut self, _token: &str) -> Result<Option<Grant>, ()> {
        // Bearer tokens are checked by `domain::tokens`, not oxide-auth's resource flow.
        Ok(None)
    }

    async fn recover_refresh(&mut self, token: &str) -> Result<Option<Grant>, ()> {
        let Some(rec) = self.tokens.recover_refresh(token).await.map_err(log)? else {
            return Ok(None);
        };
        self.recovered = Some((token.to_owned(), rec.clone()));
        Ok(Some(Grant {
            owner_id: rec.user_id,
            client_id: rec.client_id,
            scope: rec.scope.parse().map_err(|_| ())?,
            redirect_uri: NO_REDIRECT.parse().map_err(|_| ())?,
            until: Utc.timestamp_opt(rec.expires_at, 0).single().ok_or(())?,
            extensions: Extensions::new(),
        }))
    }
}

fn log(err: crate::error::AppError) {
    tracing::error!(error = format!("{err:#}"), "oauth storage failed");
}

#[derive(Serialize, Deserialize)]
struct StoredExtension {
    key: String,
    private: bool,
    value: Option<String>,
}

fn extensions_to_json(ext: &Extensions) -> Result<String, ()> {
    let mut rows: Vec<StoredExtension> = ext
        .public()
        .map(|(k, v)| StoredExtension {
            key: k.into(),
            private: false,
            value: v.map(Into::into),
        })
        .collect();
    rows.extend(ext.private().map(|(k, v)| StoredExtension {
        key: k.into(),
        private: true,
        value: v.map(Into::into),
    }));
    serde_json::to_string(&rows).map_err(|_| ())
}

fn extensions_from_json(raw: &str) -> Result<Extensions, ()> {
    let rows: Vec<StoredExtension> = serde_json::from_str(raw).map_err(|_| ())?;
    let mut ext = Extensions::new();
    for r in rows {
        ext.set_raw(
            r.key,
            if r.private {
                Value::private(r.value)
            } else {
                Value::public(r.value)
            },
        );
    }
    Ok(ext)
}
