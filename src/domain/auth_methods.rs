//! How a person proved who they are when a browser session signed in, and what that is worth to
//! an app: the `amr` (RFC 8176) and `acr` claims of ID tokens and introspection. The session
//! keeps the methods used (`http::session`), step-up adds to them, and tokens carry them on.

use serde::{Deserialize, Serialize};

/// One way of proving identity at sign-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// The account's password.
    Password,
    /// A time-based one-time code (RFC 6238).
    Totp,
    /// A single-use recovery code, in place of a second factor.
    RecoveryCode,
    /// A WebAuthn passkey (a key the authenticator holds; the server cannot tell hardware-bound
    /// from synced keys without attestation, which passkeys do not offer).
    Passkey,
}

impl AuthMethod {
    /// RFC 8176 value.
    pub const fn amr(self) -> &'static str {
        match self {
            Self::Password => "pwd",
            Self::Totp | Self::RecoveryCode => "otp",
            Self::Passkey => "hwk",
        }
    }

    /// Whether it proves something other than knowing the password: a second factor after one.
    pub const fn is_second_factor(self) -> bool {
        !matches!(self, Self::Password)
    }
}

/// `acr` when the session signed in with one factor.
pub const ACR_SINGLE: &str = "urn:portcullis:acr:1fa";
/// `acr` when the session signed in with two factors, or with a passkey (possession of the key
/// plus the authenticator's own user verification).
pub const ACR_MULTI: &str = "urn:portcullis:acr:mfa";
/// Every `acr` value this server issues, for discovery's `acr_values_supported`.
pub const ACR_VALUES: [&str; 2] = [ACR_SINGLE, ACR_MULTI];

/// The methods one sign-in used, in the order they were used, without repeats.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AuthMethods(Vec<AuthMethod>);

impl AuthMethods {
    /// Just this one method.
    pub fn one(method: AuthMethod) -> Self {
        Self(vec![method])
    }

    /// Adds a method (a second factor, or step-up); a repeat changes nothing.
    pub fn add(&mut self, method: AuthMethod) {
        if !self.0.contains(&method) {
            self.0.push(method);
        }
    }

    /// The methods in order.
    pub fn methods(&self) -> &[AuthMethod] {
        &self.0
    }

    /// Whether no method is recorded (sessions signed in before methods were kept).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the sign-in went beyond a password: a second factor after it, or a passkey.
    pub fn is_multi_factor(&self) -> bool {
        self.0.iter().any(|m| m.is_second_factor())
    }

    /// The RFC 8176 `amr` values: each method's, plus `mfa` when multi-factor. A session signed
    /// in before methods were recorded could only have used a password.
    pub fn amr(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::with_capacity(self.0.len() + 1);
        if self.0.is_empty() {
            out.push(AuthMethod::Password.amr());
        }
        for m in &self.0 {
            if !out.contains(&m.amr()) {
                out.push(m.amr());
            }
        }
        if self.is_multi_factor() {
            out.push("mfa");
        }
        out
    }

    /// The `acr` value.
    pub fn acr(&self) -> &'static str {
        if self.is_multi_factor() {
            ACR_MULTI
        } else {
            ACR_SINGLE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_alone_is_single_factor() {
        let m = AuthMethods::one(AuthMethod::Password);
        assert_eq!(m.amr(), ["pwd"]);
        assert_eq!(m.acr(), ACR_SINGLE);
        assert_eq!(AuthMethods::default().amr(), ["pwd"]);
    }

    #[test]
    fn a_second_factor_adds_its_value_and_mfa() {
        let mut m = AuthMethods::one(AuthMethod::Password);
        m.add(AuthMethod::Totp);
        m.add(AuthMethod::Totp);
        assert_eq!(m.amr(), ["pwd", "otp", "mfa"]);
        assert_eq!(m.acr(), ACR_MULTI);
        let mut r = AuthMethods::one(AuthMethod::Password);
        r.add(AuthMethod::RecoveryCode);
        assert_eq!(r.amr(), ["pwd", "otp", "mfa"]);
    }

    #[test]
    fn a_passkey_alone_is_multi_factor() {
        let m = AuthMethods::one(AuthMethod::Passkey);
        assert_eq!(m.amr(), ["hwk", "mfa"]);
        assert_eq!(m.acr(), ACR_MULTI);
    }

    #[test]
    fn methods_serialize_as_a_plain_list() {
        let mut m = AuthMethods::one(AuthMethod::Password);
        m.add(AuthMethod::Passkey);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"["password","passkey"]"#);
        assert_eq!(serde_json::from_str::<AuthMethods>(&json).unwrap(), m);
    }
}
