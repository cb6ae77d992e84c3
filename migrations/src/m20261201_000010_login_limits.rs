use sea_orm_migration::prelude::*;

/// Counters of log-in and sign-up attempts that every API process sees: one row per key
/// (an address, an account, an account from an address), with its count, when the count
/// may be forgotten, and until when the key is refused. Times are Unix milliseconds, so the
/// same arithmetic runs on PostgreSQL and SQLite.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LoginLimits {
    Table,
    Name,
    Hits,
    ExpiresAt,
    BlockedUntil,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginLimits::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(LoginLimits::Name)
                            .string_len(200)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(LoginLimits::Hits).big_integer().not_null())
                    .col(
                        ColumnDef::new(LoginLimits::ExpiresAt)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LoginLimits::BlockedUntil)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_login_limits_expires_at")
                    .table(LoginLimits::Table)
                    .col(LoginLimits::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LoginLimits::Table).to_owned())
            .await
    }
}
