//! Who this server is to authenticators: the relying party id is the issuer URL's host and the
//! only origin allowed is the issuer's (scheme, host, port). A passkey is bound to the id it was
//! registered under, so changing the issuer's host strands every registered passkey.
//!
//! Browsers accept an http origin only on `localhost` (a secure context), and the WebAuthn
//! specification allows no IP address as a relying party id (§5.1.4.1: it must be a valid
//! domain), so a server whose issuer is `http://127.0.0.1:8080` has no passkeys: use
//! `http://localhost:8080` for development.

use url::{Host, Url};
use webauthn_rs::{Webauthn, WebauthnBuilder};

/// The server's WebAuthn configuration, built once at start-up.
pub struct RelyingParty {
    webauthn: Webauthn,
    id: String,
}

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelyingParty")
            .field("id", &self.id)
            .finish()
    }
}

impl RelyingParty {
    /// The relying party of a server with this issuer URL; `Err` saying why there can be none
    /// (an IP address or no host).
    pub fn from_issuer(issuer: &Url) -> Result<Self, String> {
        let id = match issuer.host() {
            Some(Host::Domain(domain)) => domain.to_owned(),
            Some(Host::Ipv4(_) | Host::Ipv6(_)) => {
                return Err(format!(
                    "the issuer {issuer} names an IP address, which cannot be a WebAuthn \
                     relying party id; use a host name (`localhost` for development)"
                ));
            }
            None => return Err(format!("the issuer {issuer} names no host")),
        };
        let origin = Url::parse(&issuer.origin().ascii_serialization())
            .map_err(|e| format!("the issuer {issuer} has no usable origin: {e}"))?;
        let webauthn = WebauthnBuilder::new(&id, &origin)
            .and_then(|b| b.rp_name("Portcullis").build())
            .map_err(|e| format!("the issuer {issuer} is no WebAuthn relying party: {e}"))?;
        Ok(Self { webauthn, id })
    }

    /// The relying party id (the issuer's host).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The ceremonies.
    pub(super) fn webauthn(&self) -> &Webauthn {
        &self.webauthn
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_the_issuers_host() {
        let rp =
            RelyingParty::from_issuer(&Url::parse("https://id.example.com/auth").unwrap()).unwrap();
        assert_eq!(rp.id(), "id.example.com");
        assert_eq!(
            rp.webauthn().get_allowed_origins(),
            [Url::parse("https://id.example.com").unwrap()]
        );
        let local =
            RelyingParty::from_issuer(&Url::parse("http://localhost:8080").unwrap()).unwrap();
        assert_eq!(local.id(), "localhost");
        assert_eq!(
            local.webauthn().get_allowed_origins(),
            [Url::parse("http://localhost:8080").unwrap()]
        );
    }

    #[test]
    fn an_ip_address_is_no_relying_party() {
        for issuer in ["http://127.0.0.1:8080", "http://[::1]:8080"] {
            let err = RelyingParty::from_issuer(&Url::parse(issuer).unwrap()).unwrap_err();
            assert!(err.contains("IP address"), "{err}");
        }
    }
}
