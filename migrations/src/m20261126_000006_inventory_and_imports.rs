use sea_orm_migration::prelude::*;

/// The admins' flight catalogue and its CSV imports: an import's file is kept in the
/// database in chunks (so any worker on any machine can read it), its rejected rows beside it.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InventoryFlights {
    Table,
    Id,
    FlightNumber,
    Airline,
    Origin,
    Destination,
    DepartureAt,
    ArrivalAt,
    DepartureDate,
    Cabin,
    PriceMinor,
    Currency,
    SeatsTotal,
    SeatsAvailable,
    ImportId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Imports {
    Table,
    Id,
    OwnerId,
    Source,
    Filename,
    Sha256,
    DedupeKey,
    SizeBytes,
    Status,
    RowsRead,
    RowsImported,
    RowsRejected,
    BytesDone,
    Error,
    LeaseOwner,
    LeaseToken,
    LeaseExpiresAt,
    Attempts,
    Failures,
    CreatedAt,
    UpdatedAt,
    StartedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum ImportChunks {
    Table,
    ImportId,
    Seq,
    Data,
}

#[derive(DeriveIden)]
enum ImportRejections {
    Table,
    ImportId,
    Line,
    Reason,
}

fn timestamp(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use InventoryFlights as F;
        manager
            .create_table(
                Table::create()
                    .table(F::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(F::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(F::FlightNumber).string_len(8).not_null())
                    .col(ColumnDef::new(F::Airline).string_len(3).not_null())
                    .col(ColumnDef::new(F::Origin).string_len(3).not_null())
                    .col(ColumnDef::new(F::Destination).string_len(3).not_null())
                    .col(timestamp(F::DepartureAt))
                    .col(timestamp(F::ArrivalAt))
                    .col(ColumnDef::new(F::DepartureDate).date().not_null())
                    .col(ColumnDef::new(F::Cabin).string_len(20).not_null())
                    .col(ColumnDef::new(F::PriceMinor).big_integer().not_null())
                    .col(ColumnDef::new(F::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(F::SeatsTotal).integer().not_null())
                    .col(ColumnDef::new(F::SeatsAvailable).integer().not_null())
                    .col(ColumnDef::new(F::ImportId).uuid().null())
                    .col(timestamp(F::CreatedAt))
                    .col(timestamp(F::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("inventory_flights_flight_departure_key")
                    .table(F::Table)
                    .col(F::FlightNumber)
                    .col(F::DepartureAt)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("inventory_flights_route_date_idx")
                    .table(F::Table)
                    .col(F::Origin)
                    .col(F::Destination)
                    .col(F::DepartureDate)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("inventory_flights_departure_idx")
                    .table(F::Table)
                    .col(F::DepartureAt)
                    .col(F::Id)
                    .to_owned(),
            )
            .await?;

        use Imports as I;
        manager
            .create_table(
                Table::create()
                    .table(I::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(I::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(I::OwnerId).uuid().null())
                    .col(ColumnDef::new(I::Source).string_len(10).not_null())
                    .col(ColumnDef::new(I::Filename).string_len(255).not_null())
                    .col(ColumnDef::new(I::Sha256).string_len(64).null())
                    .col(ColumnDef::new(I::DedupeKey).string_len(64).null())
                    .col(ColumnDef::new(I::SizeBytes).big_integer().not_null())
                    .col(ColumnDef::new(I::Status).string_len(20).not_null())
                    .col(ColumnDef::new(I::RowsRead).big_integer().not_null())
                    .col(ColumnDef::new(I::RowsImported).big_integer().not_null())
                    .col(ColumnDef::new(I::RowsRejected).big_integer().not_null())
                    .col(ColumnDef::new(I::BytesDone).big_integer().not_null())
                    .col(ColumnDef::new(I::Error).text().null())
                    .col(ColumnDef::new(I::LeaseOwner).string_len(200).null())
                    .col(ColumnDef::new(I::LeaseToken).uuid().null())
                    .col(
                        ColumnDef::new(I::LeaseExpiresAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(I::Attempts).integer().not_null())
                    .col(ColumnDef::new(I::Failures).integer().not_null())
                    .col(timestamp(I::CreatedAt))
                    .col(timestamp(I::UpdatedAt))
                    .col(
                        ColumnDef::new(I::StartedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(I::FinishedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        // A file from the watched folder or the CLI is imported once per content.
        manager
            .create_index(
                Index::create()
                    .name("imports_dedupe_key")
                    .table(I::Table)
                    .col(I::DedupeKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("imports_status_idx")
                    .table(I::Table)
                    .col(I::Status)
                    .col(I::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ImportChunks::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(ImportChunks::ImportId).uuid().not_null())
                    .col(ColumnDef::new(ImportChunks::Seq).integer().not_null())
                    .col(ColumnDef::new(ImportChunks::Data).blob().not_null())
                    .primary_key(
                        Index::create()
                            .col(ImportChunks::ImportId)
                            .col(ImportChunks::Seq),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ImportRejections::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(ImportRejections::ImportId).uuid().not_null())
                    .col(
                        ColumnDef::new(ImportRejections::Line)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(ImportRejections::Reason).text().not_null())
                    .primary_key(
                        Index::create()
                            .col(ImportRejections::ImportId)
                            .col(ImportRejections::Line),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ImportRejections::Table.into_iden(),
            ImportChunks::Table.into_iden(),
            Imports::Table.into_iden(),
            InventoryFlights::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
