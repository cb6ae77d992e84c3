use sea_orm_migration::prelude::*;

/// The queued parallel deliveries per endpoint, by when they are due: a claim reads the
/// first few of each enabled parallel endpoint, so a disabled endpoint's backlog is never
/// walked.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX IF NOT EXISTS webhook_deliveries_parallel_queue_idx ON \
                 webhook_deliveries (endpoint_id, next_attempt_at) \
                 WHERE NOT ordered AND status = 'QUEUED'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS webhook_deliveries_parallel_queue_idx")
            .await?;
        Ok(())
    }
}
