use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub state: String,
    pub expires_at: i64,
    pub created_at: i64,
    pub user_id: Option<String>,
    pub sid: Option<String>,
    pub signed_in_at: Option<i64>,
    pub user_agent: Option<String>,
    pub ip_address: Option<String>,
    pub last_seen_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
