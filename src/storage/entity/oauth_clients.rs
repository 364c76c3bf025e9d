use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub owner_id: Option<String>,
    pub name: String,
    pub secret_hash: Option<String>,
    pub redirect_uris: String,
    pub scopes: String,
    pub grant_types: String,
    pub is_public: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub tenant_id: Option<String>,
    pub kind: String,
    pub roles: String,
    pub resource_server: bool,
    pub first_party: bool,
    pub require_second_factor: bool,
    pub id_token_signed_response_alg: String,
    pub post_logout_redirect_uris: String,
    pub description: Option<String>,
    pub homepage_url: Option<String>,
    pub privacy_policy_url: Option<String>,
    pub terms_url: Option<String>,
    pub logo_url: Option<String>,
    pub previous_secret_hash: Option<String>,
    pub previous_secret_until: Option<i64>,
    pub access_token_format: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
