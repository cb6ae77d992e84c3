use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "imports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub owner_id: Option<Uuid>,
    pub source: String,
    pub filename: String,
    pub sha256: Option<String>,
    pub dedupe_key: Option<String>,
    pub size_bytes: i64,
    pub status: String,
    pub rows_read: i64,
    pub rows_imported: i64,
    pub rows_rejected: i64,
    pub bytes_done: i64,
    pub error: Option<String>,
    pub lease_owner: Option<String>,
    pub lease_token: Option<Uuid>,
    pub lease_expires_at: Option<DateTimeUtc>,
    pub attempts: i32,
    pub failures: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    pub taken_over_from: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
