use sea_orm_migration::prelude::*;

use crate::m20261125_000001_search_jobs::SearchJobs;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FlightOffers {
    Table,
    Id,
    JobId,
    TaskIndex,
    Provider,
    OfferKey,
    Origin,
    Destination,
    DepartureDate,
    ReturnDate,
    DepartureAt,
    ArrivalAt,
    ReturnDepartureAt,
    ReturnArrivalAt,
    Carrier,
    FlightNumbers,
    Stops,
    DurationMinutes,
    PriceMinor,
    Currency,
    Cabin,
    DeepLink,
    FoundAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FlightOffers::Table)
                    .col(
                        ColumnDef::new(FlightOffers::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(FlightOffers::JobId).uuid().not_null())
                    .col(
                        ColumnDef::new(FlightOffers::TaskIndex)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FlightOffers::Provider)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FlightOffers::OfferKey)
                            .string_len(512)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FlightOffers::Origin)
                            .string_len(3)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FlightOffers::Destination)
                            .string_len(3)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FlightOffers::DepartureDate)
                            .date()
                            .not_null(),
                    )
                    .col(ColumnDef::new(FlightOffers::ReturnDate).date().null())
                    .col(
                        ColumnDef::new(FlightOffers::DepartureAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FlightOffers::ArrivalAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FlightOffers::ReturnDepartureAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(FlightOffers::ReturnArrivalAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(FlightOffers::Carrier)
                            .string_len(8)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FlightOffers::FlightNumbers)
                            .json()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FlightOffers::Stops)
                            .small_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FlightOffers::DurationMinutes)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FlightOffers::PriceMinor)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FlightOffers::Currency)
                            .string_len(3)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FlightOffers::Cabin)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(FlightOffers::DeepLink).text().null())
                    .col(
                        ColumnDef::new(FlightOffers::FoundAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("flight_offers_job_id_fkey")
                            .from(FlightOffers::Table, FlightOffers::JobId)
                            .to(SearchJobs::Table, SearchJobs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // One row per offer per job: a task redone after a crash adds nothing.
        manager
            .create_index(
                Index::create()
                    .name("flight_offers_job_offer_key")
                    .table(FlightOffers::Table)
                    .col(FlightOffers::JobId)
                    .col(FlightOffers::OfferKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Keyset paging for each sort order.
        for (name, col) in [
            ("flight_offers_job_price", FlightOffers::PriceMinor),
            ("flight_offers_job_departure", FlightOffers::DepartureAt),
            ("flight_offers_job_duration", FlightOffers::DurationMinutes),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(FlightOffers::Table)
                        .col(FlightOffers::JobId)
                        .col(col)
                        .col(FlightOffers::Id)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(FlightOffers::Table).to_owned())
            .await
    }
}
