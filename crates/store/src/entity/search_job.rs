use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "search_jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub owner_id: Option<Uuid>,
    pub label: Option<String>,
    pub status: String,
    #[sea_orm(column_type = "Json")]
    pub spec: Json,
    pub currency: String,
    pub total_tasks: i64,
    pub completed_tasks: i64,
    pub failed_tasks: i64,
    pub found_flights: i64,
    pub cache_hits: i64,
    pub provider_calls: i64,
    pub best_price_minor: Option<i64>,
    pub best_offer_id: Option<Uuid>,
    pub cursor_low_water: i64,
    #[sea_orm(column_type = "Json")]
    pub cursor_done: Json,
    #[sea_orm(column_type = "Double")]
    pub tasks_per_second: f64,
    pub eta_seconds: Option<i64>,
    pub cancel_requested: bool,
    pub lease_owner: Option<String>,
    pub lease_token: Option<Uuid>,
    pub lease_expires_at: Option<DateTimeUtc>,
    pub attempts: i32,
    pub error: Option<String>,
    pub last_checkpoint_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    pub pause_requested: bool,
    pub claims_without_progress: i32,
    pub taken_over_from: Option<String>,
    #[sea_orm(column_type = "Json", nullable)]
    pub error_sample: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
