use sea_orm_migration::prelude::*;

/// A rejected CSV row's own text beside its problems, so an admin sees what was refused
/// (rows rejected before this migration have none).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ImportRejections {
    Table,
    Content,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ImportRejections::Table)
                    .add_column_if_not_exists(
                        ColumnDef::new(ImportRejections::Content).text().null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ImportRejections::Table)
                    .drop_column(ImportRejections::Content)
                    .to_owned(),
            )
            .await
    }
}
