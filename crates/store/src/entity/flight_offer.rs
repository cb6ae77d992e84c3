use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "flight_offers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub job_id: Uuid,
    pub task_index: i64,
    pub provider: String,
    pub offer_key: String,
    pub origin: String,
    pub destination: String,
    pub departure_date: Date,
    pub return_date: Option<Date>,
    pub departure_at: DateTimeUtc,
    pub arrival_at: DateTimeUtc,
    pub return_departure_at: Option<DateTimeUtc>,
    pub return_arrival_at: Option<DateTimeUtc>,
    pub carrier: String,
    #[sea_orm(column_type = "Json")]
    pub flight_numbers: Json,
    pub stops: i16,
    pub duration_minutes: i32,
    pub price_minor: i64,
    pub currency: String,
    pub cabin: String,
    pub deep_link: Option<String>,
    pub found_at: DateTimeUtc,
    #[sea_orm(column_type = "Json", nullable)]
    pub segments: Option<Json>,
    pub expires_at: Option<DateTimeUtc>,
    pub booking_token: Option<String>,
    #[sea_orm(column_type = "Json", nullable)]
    pub raw_payload: Option<Json>,
    /// Minutes after local midnight when the outbound leaves its origin.
    pub departure_minute: Option<i16>,
    /// Minutes after local midnight when the return leaves the destination.
    pub return_minute: Option<i16>,
    /// When the provider gave the answer, for an offer served by the answer cache; NULL:
    /// at `found_at`.
    pub fetched_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
