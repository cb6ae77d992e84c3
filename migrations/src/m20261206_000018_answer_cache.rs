use sea_orm_migration::prelude::*;

/// The answer cache's traces: a search's tasks answered from the cache and asked of their
/// providers, and an offer's fetch time when it came from the cache (NULL: its own call,
/// fetched when it was stored).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SearchJobs {
    Table,
    CacheHits,
    ProviderCalls,
}

#[derive(DeriveIden)]
enum FlightOffers {
    Table,
    FetchedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one change at a time.
        for column in [SearchJobs::CacheHits, SearchJobs::ProviderCalls] {
            manager
                .alter_table(
                    Table::alter()
                        .table(SearchJobs::Table)
                        .add_column_if_not_exists(
                            ColumnDef::new(column).big_integer().not_null().default(0),
                        )
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(FlightOffers::Table)
                    .add_column_if_not_exists(
                        ColumnDef::new(FlightOffers::FetchedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(FlightOffers::Table)
                    .drop_column(FlightOffers::FetchedAt)
                    .to_owned(),
            )
            .await?;
        for column in [SearchJobs::CacheHits, SearchJobs::ProviderCalls] {
            manager
                .alter_table(
                    Table::alter()
                        .table(SearchJobs::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
