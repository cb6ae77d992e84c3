use sea_orm_migration::prelude::*;

use crate::m20261125_000001_search_jobs::SearchJobs;

/// Pausing a running search, and counting claims that made no progress (a job that kills
/// its worker every time must end FAILED instead of taking the fleet down with it).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Added {
    PauseRequested,
    ClaimsWithoutProgress,
    /// The worker whose expired lease the current one replaced, for metrics and logs.
    TakenOverFrom,
    /// The latest failed tasks with their errors (a bounded sample).
    ErrorSample,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(SearchJobs::Table)
                    .add_column(
                        ColumnDef::new(Added::PauseRequested)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(SearchJobs::Table)
                    .add_column(
                        ColumnDef::new(Added::ClaimsWithoutProgress)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(SearchJobs::Table)
                    .add_column(ColumnDef::new(Added::TakenOverFrom).string_len(200).null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(SearchJobs::Table)
                    .add_column(ColumnDef::new(Added::ErrorSample).json().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Added::PauseRequested,
            Added::ClaimsWithoutProgress,
            Added::TakenOverFrom,
            Added::ErrorSample,
        ] {
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
