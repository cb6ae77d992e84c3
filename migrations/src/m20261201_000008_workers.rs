use sea_orm_migration::prelude::*;

/// One lease for every kind of background work: a `workers` row per running worker
/// process, whose session lock on PostgreSQL says whether it is alive (so a dead process's
/// leases are taken over in seconds, not at the end of their TTL), and the import's lease
/// columns brought level with the search's.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Workers {
    Table,
    Id,
    LockId,
    Host,
    Pid,
    Kinds,
    StartedAt,
}

#[derive(DeriveIden)]
enum Imports {
    Table,
    TakenOverFrom,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Workers::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Workers::Id)
                            .string_len(200)
                            .not_null()
                            .primary_key(),
                    )
                    // The key of the session advisory lock the worker holds while alive.
                    .col(
                        ColumnDef::new(Workers::LockId)
                            .integer()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Workers::Host).string_len(255).not_null())
                    .col(ColumnDef::new(Workers::Pid).integer().not_null())
                    .col(ColumnDef::new(Workers::Kinds).string_len(200).not_null())
                    .col(
                        ColumnDef::new(Workers::StartedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Imports::Table)
                    .add_column(
                        ColumnDef::new(Imports::TakenOverFrom)
                            .string_len(200)
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
                    .table(Imports::Table)
                    .drop_column(Imports::TakenOverFrom)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Workers::Table).to_owned())
            .await
    }
}
