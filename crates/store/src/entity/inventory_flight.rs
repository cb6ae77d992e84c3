use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "inventory_flights")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub flight_number: String,
    pub airline: String,
    pub origin: String,
    pub destination: String,
    pub departure_at: DateTimeUtc,
    pub arrival_at: DateTimeUtc,
    pub departure_date: Date,
    pub cabin: String,
    pub price_minor: i64,
    pub currency: String,
    pub seats_total: i32,
    pub seats_available: i32,
    pub import_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Seats held by confirmed bookings.
    pub seats_booked: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
