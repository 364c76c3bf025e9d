//! Remembered consent: which scopes a person has granted to which client.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, sea_query::OnConflict,
};

use super::UniqueExt;
use super::entity::consents;
use super::{Db, map_err};
use crate::domain::consent::Consent;
use crate::domain::scope::ScopeSet;
use crate::error::Result;

fn to_domain(m: consents::Model) -> Result<Consent> {
    Ok(Consent {
        user_id: m.user_id,
        client_id: m.client_id,
        scopes: ScopeSet::parse(&m.scope)?,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// The consent a person gave a client, if any.
pub async fn find_consent(db: &Db, user_id: &str, client_id: &str) -> Result<Option<Consent>> {
    consents::Entity::find_by_id((user_id.to_owned(), client_id.to_owned()))
        .unique(db)
        .await
        .map_err(map_err)?
        .map(to_domain)
        .transpose()
}

/// Records (or widens) a consent.
pub async fn upsert_consent(
    db: &Db,
    user_id: &str,
    client_id: &str,
    scopes: &ScopeSet,
    at: i64,
) -> Result<()> {
    consents::Entity::insert(consents::ActiveModel {
        user_id: Set(user_id.to_owned()),
        client_id: Set(client_id.to_owned()),
        scope: Set(scopes.to_string()),
        created_at: Set(at),
        updated_at: Set(at),
    })
    .on_conflict(
        OnConflict::columns([consents::Column::UserId, consents::Column::ClientId])
            .update_columns([consents::Column::Scope, consents::Column::UpdatedAt])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .map_err(map_err)?;
    Ok(())
}

/// A person's consents, most recent first.
pub async fn list_consents(db: &Db, user_id: &str) -> Result<Vec<Consent>> {
    consents::Entity::find()
        .filter(consents::Column::UserId.eq(user_id))
        .order_by_desc(consents::Column::UpdatedAt)
        .all(db)
        .await
        .map_err(map_err)?
        .into_iter()
        .map(to_domain)
        .collect()
}

/// Forgets a consent; true when one existed.
pub async fn delete_consent(db: &Db, user_id: &str, client_id: &str) -> Result<bool> {
    let res = consents::Entity::delete_by_id((user_id.to_owned(), client_id.to_owned()))
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(res.rows_affected > 0)
}

/// Forgets every consent given to a client (the client is being deleted); how many there were.
pub async fn delete_consents_of_client(db: &Db, client_id: &str) -> Result<u64> {
    let res = consents::Entity::delete_many()
        .filter(consents::Column::ClientId.eq(client_id))
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(res.rows_affected)
}
