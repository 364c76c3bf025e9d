//! Registered OAuth clients.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    sea_query::Expr,
};

use super::UniqueExt;
use super::entity::oauth_clients;
use super::{Db, map_err};
use crate::domain::app_profile::AppProfile;
use crate::domain::client::{Client, ClientFlags, ClientKind, GrantType, PreviousSecret};
use crate::domain::client_settings::{AccessTokenFormat, OidcSettings};
use crate::domain::jwt::SigningAlg;
use crate::domain::roles::RoleAssignment;
use crate::domain::scope::ScopeSet;
use crate::error::{AppError, Result};

fn to_domain(m: oauth_clients::Model) -> Result<Client> {
    let redirect_uris: Vec<String> =
        serde_json::from_str(&m.redirect_uris).map_err(AppError::internal)?;
    let oidc = OidcSettings {
        id_token_alg: SigningAlg::parse(&m.id_token_signed_response_alg).ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "client {}: unknown ID token algorithm {:?}",
                m.id,
                m.id_token_signed_response_alg
            ))
        })?,
        post_logout_redirect_uris: serde_json::from_str(&m.post_logout_redirect_uris)
            .map_err(AppError::internal)?,
    };
    Ok(Client {
        id: m.id,
        owner_id: m.owner_id,
        name: m.name,
        redirect_uris,
        scopes: ScopeSet::parse(&m.scopes)?,
        grant_types: m
            .grant_types
            .split(' ')
            .filter_map(GrantType::parse)
            .collect(),
        is_public: m.is_public,
        secret_hash: m.secret_hash,
        created_at: m.created_at,
        kind: ClientKind::parse(&m.kind),
        tenant_id: m.tenant_id,
        roles: serde_json::from_str(&m.roles).map_err(AppError::internal)?,
        flags: ClientFlags {
            resource_server: m.resource_server,
            first_party: m.first_party,
            require_second_factor: m.require_second_factor,
        },
        oidc,
        profile: AppProfile {
            description: m.description,
            homepage_url: m.homepage_url,
            privacy_policy_url: m.privacy_policy_url,
            terms_url: m.terms_url,
            logo_url: m.logo_url,
        },
        previous_secret: match (m.previous_secret_hash, m.previous_secret_until) {
            (Some(hash), Some(until)) => Some(PreviousSecret { hash, until }),
            _ => None,
        },
        access_token_format: AccessTokenFormat::from_stored(&m.access_token_format),
    })
}

/// Stores a new client; returns it with its creation time.
pub async fn insert_client(db: &Db, client: &Client, at: i64) -> Result<Client> {
    let model = oauth_clients::ActiveModel {
        id: Set(client.id.clone()),
        owner_id: Set(client.owner_id.clone()),
        name: Set(client.name.clone()),
        secret_hash: Set(client.secret_hash.clone()),
        redirect_uris: Set(
            serde_json::to_string(&client.redirect_uris).map_err(AppError::internal)?
        ),
        scopes: Set(client.scopes.to_string()),
        grant_types: Set(client.grant_list()),
        is_public: Set(client.is_public),
        created_at: Set(at),
        updated_at: Set(at),
        tenant_id: Set(client.tenant_id.clone()),
        kind: Set(client.kind.as_str().to_owned()),
        roles: Set(serde_json::to_string(&client.roles).map_err(AppError::internal)?),
        resource_server: Set(client.flags.resource_server),
        first_party: Set(client.flags.first_party),
        require_second_factor: Set(client.flags.require_second_factor),
        id_token_signed_response_alg: Set(client.oidc.id_token_alg.as_str().to_owned()),
        post_logout_redirect_uris: Set(uris_json(&client.oidc.post_logout_redirect_uris)?),
        description: Set(client.profile.description.clone()),
        homepage_url: Set(client.profile.homepage_url.clone()),
        privacy_policy_url: Set(client.profile.privacy_policy_url.clone()),
        terms_url: Set(client.profile.terms_url.clone()),
        logo_url: Set(client.profile.logo_url.clone()),
        previous_secret_hash: Set(None),
        previous_secret_until: Set(None),
        access_token_format: Set(client.access_token_format.as_str().to_owned()),
    }
    .insert(db)
    .await
    .map_err(map_err)?;
    to_domain(model)
}

/// The client with this id.
pub async fn find_client(db: &Db, id: &str) -> Result<Option<Client>> {
    oauth_clients::Entity::find_by_id(id.to_owned())
        .unique(db)
        .await
        .map_err(map_err)?
        .map(to_domain)
        .transpose()
}

/// Clients, newest first; only one owner's when `owner` is given.
pub async fn list_clients(db: &Db, owner: Option<&str>) -> Result<Vec<Client>> {
    let mut query = oauth_clients::Entity::find().order_by_desc(oauth_clients::Column::CreatedAt);
    if let Some(owner) = owner {
        query = query.filter(oauth_clients::Column::OwnerId.eq(owner));
    }
    query
        .all(db)
        .await
        .map_err(map_err)?
        .into_iter()
        .map(to_domain)
        .collect()
}

/// Replaces a client's secret hash, keeping `previous` (or nothing) as the replaced secret.
pub async fn update_secret(
    db: &Db,
    id: &str,
    hash: &str,
    previous: Option<&PreviousSecret>,
    at: i64,
) -> Result<()> {
    oauth_clients::Entity::update_many()
        .col_expr(oauth_clients::Column::SecretHash, Expr::value(hash))
        .col_expr(
            oauth_clients::Column::PreviousSecretHash,
            Expr::value(previous.map(|p| p.hash.clone())),
        )
        .col_expr(
            oauth_clients::Column::PreviousSecretUntil,
            Expr::value(previous.map(|p| p.until)),
        )
        .col_expr(oauth_clients::Column::UpdatedAt, Expr::value(at))
        .filter(oauth_clients::Column::Id.eq(id))
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// Saves what an app's owner edits: its name, redirect URIs, scopes, grants and profile.
pub async fn update_app(db: &Db, client: &Client, at: i64) -> Result<()> {
    let p = &client.profile;
    oauth_clients::Entity::update_many()
        .col_expr(
            oauth_clients::Column::Name,
            Expr::value(client.name.as_str()),
        )
        .col_expr(
            oauth_clients::Column::RedirectUris,
            Expr::value(uris_json(&client.redirect_uris)?),
        )
        .col_expr(
            oauth_clients::Column::Scopes,
            Expr::value(client.scopes.to_string()),
        )
        .col_expr(
            oauth_clients::Column::GrantTypes,
            Expr::value(client.grant_list()),
        )
        .col_expr(
            oauth_clients::Column::Description,
            Expr::value(p.description.clone()),
        )
        .col_expr(
            oauth_clients::Column::HomepageUrl,
            Expr::value(p.homepage_url.clone()),
        )
        .col_expr(
            oauth_clients::Column::PrivacyPolicyUrl,
            Expr::value(p.privacy_policy_url.clone()),
        )
        .col_expr(
            oauth_clients::Column::TermsUrl,
            Expr::value(p.terms_url.clone()),
        )
        .col_expr(
            oauth_clients::Column::LogoUrl,
            Expr::value(p.logo_url.clone()),
        )
        .col_expr(oauth_clients::Column::UpdatedAt, Expr::value(at))
        .filter(oauth_clients::Column::Id.eq(client.id.as_str()))
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// Sets a client's administrator flags.
pub async fn update_flags(db: &Db, id: &str, flags: ClientFlags, at: i64) -> Result<()> {
    oauth_clients::Entity::update_many()
        .col_expr(
            oauth_clients::Column::ResourceServer,
            Expr::value(flags.resource_server),
        )
        .col_expr(
            oauth_clients::Column::FirstParty,
            Expr::value(flags.first_party),
        )
        .col_expr(
            oauth_clients::Column::RequireSecondFactor,
            Expr::value(flags.require_second_factor),
        )
        .col_expr(oauth_clients::Column::UpdatedAt, Expr::value(at))
        .filter(oauth_clients::Column::Id.eq(id))
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(())
}

fn uris_json(uris: &[String]) -> Result<String> {
    serde_json::to_string(uris).map_err(AppError::internal)
}

/// Sets a client's OpenID Connect settings and access-token format, in one statement.
pub async fn update_settings(
    db: &Db,
    id: &str,
    settings: &OidcSettings,
    format: AccessTokenFormat,
    at: i64,
) -> Result<()> {
    oauth_clients::Entity::update_many()
        .col_expr(
            oauth_clients::Column::IdTokenSignedResponseAlg,
            Expr::value(settings.id_token_alg.as_str()),
        )
        .col_expr(
            oauth_clients::Column::PostLogoutRedirectUris,
            Expr::value(uris_json(&settings.post_logout_redirect_uris)?),
        )
        .col_expr(
            oauth_clients::Column::AccessTokenFormat,
            Expr::value(format.as_str()),
        )
        .col_expr(oauth_clients::Column::UpdatedAt, Expr::value(at))
        .filter(oauth_clients::Column::Id.eq(id))
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// A tenant's system credentials, newest first.
pub async fn list_system(db: &Db, tenant_id: &str) -> Result<Vec<Client>> {
    oauth_clients::Entity::find()
        .filter(oauth_clients::Column::TenantId.eq(tenant_id))
        .filter(oauth_clients::Column::Kind.eq(ClientKind::System.as_str()))
        .order_by_desc(oauth_clients::Column::CreatedAt)
        .order_by_desc(oauth_clients::Column::Id)
        .all(db)
        .await
        .map_err(map_err)?
        .into_iter()
        .map(to_domain)
        .collect()
}

/// Sets a client's name and roles.
pub async fn update_name_and_roles(
    db: &Db,
    id: &str,
    name: &str,
    roles: &[RoleAssignment],
    at: i64,
) -> Result<()> {
    oauth_clients::Entity::update_many()
        .col_expr(oauth_clients::Column::Name, Expr::value(name))
        .col_expr(
            oauth_clients::Column::Roles,
            Expr::value(serde_json::to_string(roles).map_err(AppError::internal)?),
        )
        .col_expr(oauth_clients::Column::UpdatedAt, Expr::value(at))
        .filter(oauth_clients::Column::Id.eq(id))
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// Deletes a client; true when it existed.
pub async fn delete_client(db: &Db, id: &str) -> Result<bool> {
    let res = oauth_clients::Entity::delete_by_id(id.to_owned())
        .exec(db)
        .await
        .map_err(map_err)?;
    Ok(res.rows_affected > 0)
}
