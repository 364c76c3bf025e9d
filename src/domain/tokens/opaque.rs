//! Opaque access tokens (clients whose `access_token_format` is `opaque`): an `at_` secret in the
//! credential format (`secret_format::Kind::AccessToken`) standing for the claims a JWT would
//! have carried, which only this server holds, stored under the token's keyed hash. Revocation,
//! expiry and families apply to those claims exactly as to a JWT's (`verification`).

use super::TokenService;
use super::refresh::REFRESH_BYTES;
use crate::domain::jwt::AccessClaims;
use crate::domain::secret_format::{self, Kind};
use crate::error::Result;
use crate::storage;
use crate::storage::writer::Write;

/// Length of a refresh token (its random bytes in unpadded base64url), which may start with
/// `at_` by chance and must still be taken for a refresh token.
const REFRESH_LEN: usize = (REFRESH_BYTES * 4).div_ceil(3);

/// Whether `token` is presented as an opaque access token: the `at_` prefix, no JWT dots, and not
/// a refresh token's length. Well-formed or not: a damaged one must be refused as an access token
/// (`well_formed`), not looked up as anything else.
pub(super) fn is_opaque(token: &str) -> bool {
    token.starts_with(Kind::AccessToken.prefix())
        && !token.contains('.')
        && token.len() != REFRESH_LEN
}

/// Whether an opaque token's length, alphabet and checksum are right: checked before any lookup,
/// so a mistyped, truncated or forged token costs no query.
pub(super) fn well_formed(token: &str) -> bool {
    secret_format::check(token) == Ok(Kind::AccessToken)
}

impl TokenService {
    /// A new opaque token standing for `claims`; only its keyed hash is stored.
    pub(super) async fn store_opaque(&self, claims: &AccessClaims) -> Result<String> {
        let token = secret_format::generate(Kind::AccessToken);
        let stored = Write::InsertOpaque {
            hash: self.hasher.hash(&token),
            claims: Box::new(claims.clone()),
        };
        self.writer.write(stored).await?;
        Ok(token)
    }

    /// The claims a well-formed opaque token stands for, expired or not; `None` when no such
    /// token was issued (or it expired long enough ago for the janitor to remove it).
    pub(super) async fn find_opaque(&self, token: &str) -> Result<Option<AccessClaims>> {
        storage::opaque_tokens::find_opaque(&self.db, &self.hasher.hash(token)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::random_token;

    #[test]
    fn only_at_tokens_that_are_no_refresh_token_or_jwt_count_as_opaque() {
        let token = secret_format::generate(Kind::AccessToken);
        assert!(is_opaque(&token) && well_formed(&token));
        // Damaged ones are still opaque tokens, just not well-formed ones.
        let truncated = &token[..token.len() - 1];
        assert!(is_opaque(truncated) && !well_formed(truncated));
        let mut typo = token.clone().into_bytes();
        typo[5] = if typo[5] == b'Q' { b'R' } else { b'Q' };
        let typo = String::from_utf8(typo).unwrap();
        assert!(is_opaque(&typo) && !well_formed(&typo));
        // A refresh token that happens to start with `at_` is still a refresh token.
        let refresh = random_token::<REFRESH_BYTES>();
        assert_eq!(refresh.len(), REFRESH_LEN);
        let unlucky = format!("at_{}", &refresh[3..]);
        assert!(!is_opaque(&unlucky));
        assert!(!is_opaque("eyJhbGciOiJFZERTQSJ9.e30.sig"));
        assert!(!is_opaque("at_x.y.z"));
        assert!(!is_opaque(&secret_format::generate(Kind::ApiKeyLive)));
    }
}
