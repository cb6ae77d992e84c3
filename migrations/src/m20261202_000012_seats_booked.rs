use sea_orm_migration::prelude::*;

/// `inventory_flights.seats_booked`: the seats confirmed bookings hold, so saving a flight
/// again (an admin's edit, a CSV import) cannot offer them for sale a second time.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InventoryFlights {
    Table,
    SeatsBooked,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(InventoryFlights::Table)
                    .add_column(
                        ColumnDef::new(InventoryFlights::SeatsBooked)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(InventoryFlights::Table)
                    .drop_column(InventoryFlights::SeatsBooked)
                    .to_owned(),
            )
            .await
    }
}
