//! Issuing access tokens: what goes into the claims, the format they go out in (a signed JWT, or
//! an opaque reference, as the client chose), and the `token.issued` audit event that every
//! grant's issuance records. Which grant may mint what is decided in `domain::grants`.

use super::TokenService;
use crate::domain::audit::AuditEvent;
use crate::domain::auth_methods::AuthMethods;
use crate::domain::client_settings::AccessTokenFormat;
use crate::domain::jwt::AccessClaims;
use crate::domain::roles::RoleClaim;
use crate::domain::scope::ScopeSet;
use crate::domain::user::User;
use crate::error::Result;

/// What to put in a new access token.
#[derive(Debug, Default)]
pub struct Mint<'a> {
    /// User id, or the client id for a client acting for itself.
    pub owner_id: &'a str,
    /// Client (or credential) the token is issued to.
    pub client_id: &'a str,
    /// Space-separated scopes.
    pub scope: &'a str,
    /// Token family.
    pub gid: Option<String>,
    /// Tenant.
    pub tid: Option<String>,
    /// Environment marker.
    pub env: Option<String>,
    /// Source credential.
    pub cid: Option<String>,
    /// Lifetime; the configured access-token lifetime when `None`.
    pub ttl: Option<i64>,
    /// Roles of a system credential (empty: full access).
    pub roles: Option<Vec<RoleClaim>>,
    /// The grant that issued it, for the audit log (empty: not recorded).
    pub grant: &'a str,
    /// The browser session it belongs to (session tokens).
    pub sid: Option<String>,
    /// How the person signed in for the grant (`amr` and `acr`), for tokens apps get for people.
    pub methods: Option<AuthMethods>,
}

impl Mint<'_> {
    /// The claims of this token, issued by `issuer` at `now`, living `default_ttl` seconds
    /// unless it says otherwise.
    fn claims(self, issuer: &str, now: i64, default_ttl: i64, jti: String) -> AccessClaims {
        // A client acting for itself is its own subject; a person appears by public id.
        let sub = if self.owner_id == self.client_id {
            self.client_id.to_owned()
        } else {
            User::public_id_of(self.owner_id)
        };
        AccessClaims {
            iss: issuer.to_owned(),
            sub,
            aud: issuer.to_owned(),
            exp: now + self.ttl.unwrap_or(default_ttl),
            iat: now,
            jti,
            client_id: self.client_id.to_owned(),
            // Canonical (sorted) order, whatever order the request used.
            scope: ScopeSet::parse(self.scope)
                .map_or_else(|_| self.scope.to_owned(), |s| s.to_string()),
            gid: self.gid,
            tid: self.tid,
            env: self.env,
            cid: self.cid,
            full_access: self.roles.as_ref().map(Vec::is_empty),
            roles: self.roles,
            sid: self.sid,
            amr: self
                .methods
                .as_ref()
                .map(|m| m.amr().into_iter().map(str::to_owned).collect()),
            acr: self.methods.as_ref().map(|m| m.acr().to_owned()),
        }
    }
}

impl TokenService {
    /// Signs an access token. `owner_id` is a user id, or equals `client_id` for tokens a client
    /// obtained for itself.
    pub fn mint(
        &self,
        owner_id: &str,
        client_id: &str,
        scope: &str,
        gid: Option<String>,
    ) -> Result<(String, AccessClaims)> {
        self.mint_with(Mint {
            owner_id,
            client_id,
            scope,
            gid,
            ..Mint::default()
        })
    }

    /// Signs an access token (a JWT) with every option; records `token.issued` when `grant` is
    /// named. Tokens for a client's grant go through `issue_access`, which honours its format.
    pub fn mint_with(&self, m: Mint<'_>) -> Result<(String, AccessClaims)> {
        let grant = m.grant;
        let claims = self.claims_of(m);
        let token = self.keys.current().sign(&claims)?;
        self.issued(&claims, grant);
        Ok((token, claims))
    }

    /// Issues a client's access token in the format it chose: a JWT as `mint_with` signs, or an
    /// opaque `at_` token standing for the same claims. Either way `token.issued` is recorded and
    /// counted alike, and the claims come back for `expires_in` and the ID token.
    pub async fn issue_access(
        &self,
        m: Mint<'_>,
        format: AccessTokenFormat,
    ) -> Result<(String, AccessClaims)> {
        match format {
            AccessTokenFormat::Jwt => self.mint_with(m),
            AccessTokenFormat::Opaque => {
                let grant = m.grant;
                let claims = self.claims_of(m);
                let token = self.store_opaque(&claims).await?;
                self.issued(&claims, grant);
                Ok((token, claims))
            }
        }
    }

    /// The claims of a new token, with a fresh `jti`, issued now.
    fn claims_of(&self, m: Mint<'_>) -> AccessClaims {
        let jti = crate::secret::unordered_uuid_v7().to_string();
        m.claims(&self.issuer, self.now(), self.access_ttl, jti)
    }

    /// Records and counts an issued token, when a grant is named.
    fn issued(&self, claims: &AccessClaims, grant: &str) {
        if grant.is_empty() {
            return;
        }
        self.audit(issued_event(claims, grant));
        crate::runtime::metrics::token_issued(grant);
        if claims.cid.is_none() {
            self.count_token_request(&claims.client_id, false);
        }
    }
}

/// `token.issued`: by the credential it came from, or else the client; about the person.
fn issued_event(claims: &AccessClaims, grant: &str) -> AuditEvent {
    let user = User::id_from_public(&claims.sub);
    let actor = claims
        .cid
        .as_deref()
        .map_or(("client", claims.client_id.as_str()), |c| ("credential", c));
    AuditEvent::here("token.issued")
        .by(actor.0, actor.1)
        .about(user.as_deref())
        .tenant(claims.tid.as_deref())
        .target(format!("token:{}", claims.jti))
        .detail(serde_json::json!({
            "grant_type": grant,
            "client_id": claims.client_id,
            "scope": claims.scope,
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mint<'a>(owner: &'a str, client: &'a str, scope: &'a str) -> Mint<'a> {
        Mint {
            owner_id: owner,
            client_id: client,
            scope,
            ..Mint::default()
        }
    }

    #[test]
    fn a_client_acting_for_itself_is_its_own_subject() {
        let c = mint("cli_1", "cli_1", "read").claims("https://auth", 100, 60, "j".into());
        assert_eq!(c.sub, "cli_1");
        assert_eq!(c.exp, 160);
        assert_eq!(c.iat, 100);
    }

    #[test]
    fn a_person_appears_by_public_id_and_scopes_are_sorted() {
        let c = mint("u1", "app", "write read").claims("https://auth", 0, 60, "j".into());
        assert_eq!(c.sub, User::public_id_of("u1"));
        assert_eq!(c.scope, "read write");
    }

    #[test]
    fn roles_decide_full_access_and_ttl_overrides_the_default() {
        let c = Mint {
            roles: Some(vec![]),
            ttl: Some(5),
            ..mint("c", "c", "read")
        }
        .claims("i", 10, 60, "j".into());
        assert_eq!(c.full_access, Some(true));
        assert_eq!(c.exp, 15);
        let c = mint("c", "c", "read").claims("i", 10, 60, "j".into());
        assert_eq!(c.full_access, None);
    }

    #[test]
    fn the_sign_in_methods_become_amr_and_acr() {
        use crate::domain::auth_methods::{ACR_MULTI, AuthMethod};
        let mut methods = AuthMethods::one(AuthMethod::Password);
        methods.add(AuthMethod::Totp);
        let c = Mint {
            methods: Some(methods),
            ..mint("u1", "app", "read")
        }
        .claims("i", 10, 60, "j".into());
        assert_eq!(
            c.amr.as_deref(),
            Some(&["pwd".to_owned(), "otp".into(), "mfa".into()][..])
        );
        assert_eq!(c.acr.as_deref(), Some(ACR_MULTI));
        let plain = mint("u1", "app", "read").claims("i", 10, 60, "j".into());
        assert_eq!((plain.amr, plain.acr), (None, None));
    }
}
