use sea_orm_migration::prelude::*;

/// Offers gain their flights, an expiry, a booking token and the provider's raw payload;
/// `provider_quotas` holds one token bucket per provider, shared by every worker process
/// on the same PostgreSQL.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FlightOffers {
    Table,
}

#[derive(DeriveIden)]
enum Added {
    Segments,
    ExpiresAt,
    BookingToken,
    RawPayload,
}

#[derive(DeriveIden)]
pub enum ProviderQuotas {
    Table,
    Provider,
    Tokens,
    RefilledAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        let columns = [
            ColumnDef::new(Added::Segments).json().null().to_owned(),
            ColumnDef::new(Added::ExpiresAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Added::BookingToken).text().null().to_owned(),
            ColumnDef::new(Added::RawPayload).json().null().to_owned(),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(FlightOffers::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(ProviderQuotas::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(ProviderQuotas::Provider)
                            .string_len(100)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ProviderQuotas::Tokens).double().not_null())
                    .col(
                        ColumnDef::new(ProviderQuotas::RefilledAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ProviderQuotas::Table).to_owned())
            .await?;
        for column in [
            Added::Segments,
            Added::ExpiresAt,
            Added::BookingToken,
            Added::RawPayload,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(FlightOffers::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
