//! Remembered consent: a person approves an app for some scopes once; later requests for the same
//! or fewer scopes skip the consent page unless the app sends `prompt=consent`.

use crate::domain::cache::Caches;
use crate::domain::client::Client;
use crate::domain::scope::ScopeSet;
use crate::error::Result;
use crate::storage::{self, Db};

/// A person's standing approval of a client.
#[derive(Debug, Clone)]
pub struct Consent {
    /// The person.
    pub user_id: String,
    /// The client.
    pub client_id: String,
    /// Scopes approved so far.
    pub scopes: ScopeSet,
    /// First approval, Unix seconds.
    pub created_at: i64,
    /// Latest approval, Unix seconds.
    pub updated_at: i64,
}

/// Whether a request needs the consent page, and for which scopes it is new.
pub fn needs_prompt(
    existing: Option<&Consent>,
    requested: &ScopeSet,
    prompt_consent: bool,
) -> Option<ScopeSet> {
    match existing {
        Some(c) if !prompt_consent && c.scopes.contains_all(requested) => None,
        Some(c) => Some(requested.minus(&c.scopes)),
        None => Some(requested.clone()),
    }
}

/// The consent a person gave a client, if any.
pub async fn find(db: &Db, user_id: &str, client_id: &str) -> Result<Option<Consent>> {
    storage::consents::find_consent(db, user_id, client_id).await
}

/// Records approval of `scopes`, adding to what was approved before.
pub async fn grant(db: &Db, user_id: &str, client_id: &str, scopes: &ScopeSet) -> Result<()> {
    let merged = match find(db, user_id, client_id).await? {
        Some(c) => c.scopes.union(scopes),
        None => scopes.clone(),
    };
    storage::consents::upsert_consent(db, user_id, client_id, &merged).await
}

/// Withdraws a person's consent for a client and revokes every token the client holds for them.
pub async fn revoke(db: &Db, caches: &Caches, user_id: &str, client_id: &str) -> Result<()> {
    storage::consents::delete_consent(db, user_id, client_id).await?;
    storage::tokens::revoke_families_of(db, user_id, client_id).await?;
    caches.revoked().invalidate();
    Ok(())
}

/// A person's consents with the clients they name (`None` for a client since deleted).
pub async fn list_with_clients(db: &Db, user_id: &str) -> Result<Vec<(Consent, Option<Client>)>> {
    let mut out = Vec::new();
    for c in storage::consents::list_consents(db, user_id).await? {
        let client = storage::clients::find_client(db, &c.client_id).await?;
        out.push((c, client));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn consent(scopes: &str) -> Consent {
        Consent {
            user_id: "u".into(),
            client_id: "c".into(),
            scopes: ScopeSet::parse(scopes).unwrap(),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn same_or_fewer_scopes_skip_the_page() {
        let c = consent("read write");
        assert!(needs_prompt(Some(&c), &ScopeSet::parse("read").unwrap(), false).is_none());
        assert!(needs_prompt(Some(&c), &ScopeSet::parse("read write").unwrap(), false).is_none());
    }

    #[test]
    fn more_scopes_or_prompt_consent_show_it() {
        let c = consent("read");
        let new = needs_prompt(Some(&c), &ScopeSet::parse("read admin").unwrap(), false).unwrap();
        assert_eq!(new.to_string(), "admin");
        assert!(needs_prompt(Some(&c), &ScopeSet::parse("read").unwrap(), true).is_some());
        assert!(needs_prompt(None, &ScopeSet::parse("read").unwrap(), false).is_some());
    }
}
