//! Reading client credentials off the wire (RFC 6749 §2.3.1): `client_secret_basic`,
//! `client_secret_post`, or a public client's bare `client_id`. Checking them is
//! `domain::grants::Grants::authenticate_client`'s (HMAC, constant-time compare); a request
//! that cannot even be read this far is refused here with the domain's refusal.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use oxide_auth::endpoint::QueryParameter;
use oxide_auth_actix::OAuthRequest;

use super::error::OAuthError;
use crate::domain::client::Client;
use crate::domain::grants::{OAuthRefusal, PresentedClient};
use crate::secret::ClientSecret;
use crate::state::AppState;

/// One unique form parameter of the request body.
pub fn param(req: &OAuthRequest, key: &str) -> Option<String> {
    req.body()?.unique_value(key).map(|v| v.into_owned())
}

/// The client credentials a request presents, `None` when it presents none.
pub fn presented(req: &OAuthRequest) -> Result<Option<PresentedClient>, OAuthRefusal> {
    let body_id = param(req, "client_id");
    let body_secret = param(req, "client_secret");
    match req.authorization_header() {
        Some(header) if header.len() > 6 && header[..6].eq_ignore_ascii_case("basic ") => {
            if body_secret.is_some() {
                return Err(OAuthRefusal::invalid_request(
                    "Use one client authentication method, not two.",
                ));
            }
            let (id, secret) =
                decode_basic(&header[6..]).ok_or(OAuthRefusal::InvalidClient { basic: true })?;
            if body_id.as_deref().is_some_and(|b| b != id) {
                return Err(OAuthRefusal::invalid_request(
                    "client_id does not match the Authorization header.",
                ));
            }
            Ok(Some(PresentedClient {
                id,
                secret: Some(ClientSecret::new(secret)),
                basic: true,
                id_in_body_too: body_id.is_some(),
            }))
        }
        Some(_) => Err(OAuthRefusal::InvalidClient { basic: true }),
        None => Ok(body_id.map(|id| PresentedClient {
            id,
            secret: body_secret.map(ClientSecret::new),
            basic: false,
            id_in_body_too: false,
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

/// Authenticates the calling client (revocation, introspection), or answers 401
/// `invalid_client`.
pub async fn authenticate(state: &AppState, req: &OAuthRequest) -> Result<Client, OAuthError> {
    Ok(state.grants().authenticate_client(presented(req)).await?)
}

/// Whether the request names the session pseudo-client the way a public client does: its id in
/// the body, no secret, no Authorization header. It is no registered client, so it has no
/// secret to present.
pub fn presents_session_client(req: &OAuthRequest) -> bool {
    req.authorization_header().is_none()
        && param(req, "client_secret").is_none()
        && param(req, "client_id").as_deref() == Some(crate::domain::exchange::SESSION_CLIENT)
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
