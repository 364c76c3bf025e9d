//! Client authentication (RFC 6749 §2.3.1): `client_secret_basic`, `client_secret_post`, or a
//! public client's bare `client_id`. Done before any oxide-auth flow runs, so failures get the
//! right error and status, and the secret is checked once (HMAC, constant-time compare).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use oxide_auth::endpoint::QueryParameter;
use oxide_auth_actix::OAuthRequest;

use super::error::OAuthError;
use crate::domain::client::{self, AuthMethod, Client};
use crate::state::AppState;

/// Credentials as presented.
struct Presented {
    id: String,
    secret: Option<String>,
    method: AuthMethod,
}

/// One unique form parameter of the request body.
pub fn param(req: &OAuthRequest, key: &str) -> Option<String> {
    req.body()?.unique_value(key).map(|v| v.into_owned())
}

fn presented(req: &OAuthRequest) -> Result<Option<Presented>, OAuthError> {
    let body_id = param(req, "client_id");
    let body_secret = param(req, "client_secret");
    match req.authorization_header() {
        Some(header) if header.len() > 6 && header[..6].eq_ignore_ascii_case("basic ") => {
            if body_secret.is_some() {
                return Err(OAuthError::bad(
                    "invalid_request",
                    "Use one client authentication method, not two.",
                ));
            }
            let (id, secret) =
                decode_basic(&header[6..]).ok_or_else(|| OAuthError::invalid_client(true))?;
            if body_id.as_deref().is_some_and(|b| b != id) {
                return Err(OAuthError::bad(
                    "invalid_request",
                    "client_id does not match the Authorization header.",
                ));
            }
            Ok(Some(Presented {
                id,
                secret: Some(secret),
                method: AuthMethod::Basic,
            }))
        }
        Some(_) => Err(OAuthError::invalid_client(true)),
        None => Ok(body_id.map(|id| Presented {
            method: if body_secret.is_some() {
                AuthMethod::Post
            } else {
                AuthMethod::None
            },
            id,
            secret: body_secret,
        })),
    }
}

/// RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64.
pub fn decode_basic(encoded: &str) -> Option<(String, String)> {
    let raw = STANDARD.decode(encoded.trim()).ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let (id, secret) = raw.split_once(':')?;
    let decode = |s: &str| -> Option<String> {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    let id = decode(id)?;
    (!id.is_empty()).then_some(())?;
    Some((id, decode(secret)?))
}

/// Authenticates the calling client, or answers 401 `invalid_client`.
pub async fn authenticate(
    state: &AppState,
    req: &OAuthRequest,
) -> Result<(Client, AuthMethod), OAuthError> {
    let p = presented(req)?.ok_or_else(|| OAuthError::invalid_client(false))?;
    let basic = p.method == AuthMethod::Basic;
    match client::authenticate(
        &state.db,
        &state.caches,
        state.tokens.hasher(),
        &p.id,
        p.secret.as_deref(),
    )
    .await
    {
        Ok(c) => Ok((c, p.method)),
        Err(crate::error::AppError::Unauthenticated(_)) => Err(OAuthError::invalid_client(basic)),
        Err(e) => Err(OAuthError::server(&e)),
    }
}

/// Whether the request names the session pseudo-client the way a public client does: its id in
/// the body, no secret, no Authorization header. It is no registered client, so it has no
/// secret to present.
pub fn presents_session_client(req: &OAuthRequest) -> bool {
    req.authorization_header().is_none()
        && param(req, "client_secret").is_none()
        && param(req, "client_id").as_deref() == Some(crate::domain::exchange::SESSION_CLIENT)
}

/// The client id a request presents (Basic or body), unverified: the throttle's key.
pub fn presented_id(req: &OAuthRequest) -> Option<String> {
    presented(req).ok().flatten().map(|p| p.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_url_decoded() {
        let enc = STANDARD.encode("my%20client:s%3Acret");
        assert_eq!(
            decode_basic(&enc),
            Some(("my client".into(), "s:cret".into()))
        );
        assert_eq!(decode_basic("!!!"), None);
        assert_eq!(decode_basic(&STANDARD.encode("nocolon")), None);
        assert_eq!(decode_basic(&STANDARD.encode(":secret")), None);
    }
}
