//! Opaque access tokens: the claims each one stands for, found by the keyed hash of the token.
//! The token itself is never stored; revocation is by `jti` in `tokens` (as for JWTs), and the
//! janitor deletes rows once they expire.

use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

use super::UniqueExt;
use super::entity::opaque_access_tokens;
use super::{Db, map_err};
use crate::domain::jwt::AccessClaims;
use crate::error::{AppError, Result};

/// Stores the claims of new opaque tokens under their keyed hashes, one statement however many.
pub async fn insert_opaque(
    db: &impl ConnectionTrait,
    tokens: &[(&str, &AccessClaims)],
) -> Result<()> {
    if tokens.is_empty() {
        return Ok(());
    }
    let mut rows = Vec::with_capacity(tokens.len());
    for (token_hash, claims) in tokens {
        rows.push(opaque_access_tokens::ActiveModel {
            token_hash: Set((*token_hash).to_owned()),
            jti: Set(claims.jti.clone()),
            client_id: Set(claims.client_id.clone()),
            claims: Set(serde_json::to_string(claims).map_err(AppError::internal)?),
            expires_at: Set(claims.exp),
        });
    }
    opaque_access_tokens::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// The claims of the opaque token whose keyed hash is `token_hash`, expired or not.
pub async fn find_opaque(db: &Db, token_hash: &str) -> Result<Option<AccessClaims>> {
    opaque_access_tokens::Entity::find_by_id(token_hash.to_owned())
        .unique(db)
        .await
        .map_err(map_err)?
        .map(|row| serde_json::from_str(&row.claims).map_err(AppError::internal))
        .transpose()
}
