use sea_orm_migration::prelude::*;

/// Bookings and the transactional outbox.
///
/// - `bookings`: what a traveller booked, with a snapshot of the offer at booking time;
///   the idempotency key is unique per account.
/// - `booking_calls`: the lease-held provider call of a booking that is not in the
///   catalogue (one row per such booking, claimed like searches and imports).
/// - `events`: the outbox, written in the transaction of the change it describes.
///   `sequence` comes from the one-row `event_sequence` counter, taken last in that
///   transaction: the row lock orders event writers by commit, so a reader paging by
///   sequence never sees a later number before an earlier one commits.
/// - `event_consumers`: one durable consumer per row, its position in the outbox and the
///   lease of the worker running it; `consumer_receipts`: the events a consumer has
///   handled, for handlers idempotent by event id.
/// - `inbox`: each account's notifications, kept (the notifications consumer writes them).
/// - `booking_stats`, `search_stats`: daily figures per route and currency (the analytics
///   consumer writes them).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Bookings {
    Table,
    Id,
    AccountId,
    OfferId,
    JobId,
    Provider,
    Catalogue,
    Status,
    PriceMinor,
    Currency,
    Seats,
    Passengers,
    Offer,
    InventoryIds,
    IdempotencyKey,
    RequestHash,
    ProviderReference,
    Error,
    ErrorCode,
    NewPriceMinor,
    CreatedAt,
    UpdatedAt,
    ConfirmedAt,
    CancelledAt,
}

#[derive(DeriveIden)]
enum BookingCalls {
    Table,
    Id,
    Status,
    LeaseOwner,
    LeaseToken,
    LeaseExpiresAt,
    Attempts,
    TakenOverFrom,
    CreatedAt,
    UpdatedAt,
    StartedAt,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    Sequence,
    Type,
    SubjectId,
    AccountId,
    Payload,
    CreatedAt,
}

#[derive(DeriveIden)]
enum EventSequence {
    Table,
    Id,
    Last,
}

#[derive(DeriveIden)]
enum EventConsumers {
    Table,
    Id,
    Name,
    Position,
    Delivered,
    Status,
    Error,
    LeaseOwner,
    LeaseToken,
    LeaseExpiresAt,
    Attempts,
    TakenOverFrom,
    CreatedAt,
    UpdatedAt,
    StartedAt,
}

#[derive(DeriveIden)]
enum ConsumerReceipts {
    Table,
    Consumer,
    EventId,
    HandledAt,
}

#[derive(DeriveIden)]
enum Inbox {
    Table,
    Id,
    AccountId,
    Kind,
    SubjectId,
    Title,
    Message,
    CreatedAt,
    ReadAt,
}

#[derive(DeriveIden)]
enum BookingStats {
    Table,
    Day,
    Origin,
    Destination,
    Currency,
    Bookings,
    Seats,
    RevenueMinor,
    Cancellations,
    RefundedMinor,
}

#[derive(DeriveIden)]
enum SearchStats {
    Table,
    Day,
    Origin,
    Destination,
    Currency,
    Searches,
    BestPriceMinor,
}

fn timestamp(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn timestamp_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Bookings as B;
        manager
            .create_table(
                Table::create()
                    .table(B::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(B::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(B::AccountId).uuid().not_null())
                    .col(ColumnDef::new(B::OfferId).uuid().not_null())
                    .col(ColumnDef::new(B::JobId).uuid().not_null())
                    .col(ColumnDef::new(B::Provider).string_len(64).not_null())
                    .col(ColumnDef::new(B::Catalogue).boolean().not_null())
                    .col(ColumnDef::new(B::Status).string_len(20).not_null())
                    .col(ColumnDef::new(B::PriceMinor).big_integer().not_null())
                    .col(ColumnDef::new(B::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(B::Seats).integer().not_null())
                    .col(ColumnDef::new(B::Passengers).text().not_null())
                    .col(ColumnDef::new(B::Offer).text().not_null())
                    .col(ColumnDef::new(B::InventoryIds).text().null())
                    .col(ColumnDef::new(B::IdempotencyKey).string_len(200).not_null())
                    .col(ColumnDef::new(B::RequestHash).string_len(64).not_null())
                    .col(ColumnDef::new(B::ProviderReference).string_len(200).null())
                    .col(ColumnDef::new(B::Error).text().null())
                    .col(ColumnDef::new(B::ErrorCode).string_len(40).null())
                    .col(ColumnDef::new(B::NewPriceMinor).big_integer().null())
                    .col(timestamp(B::CreatedAt))
                    .col(timestamp(B::UpdatedAt))
                    .col(timestamp_null(B::ConfirmedAt))
                    .col(timestamp_null(B::CancelledAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("bookings_account_idempotency_key")
                    .table(B::Table)
                    .col(B::AccountId)
                    .col(B::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("bookings_account_created_idx")
                    .table(B::Table)
                    .col(B::AccountId)
                    .col(B::CreatedAt)
                    .col(B::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("bookings_created_idx")
                    .table(B::Table)
                    .col(B::CreatedAt)
                    .col(B::Id)
                    .to_owned(),
            )
            .await?;

        use BookingCalls as C;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(C::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(C::Status).string_len(20).not_null())
                    .col(ColumnDef::new(C::LeaseOwner).string_len(200).null())
                    .col(ColumnDef::new(C::LeaseToken).uuid().null())
                    .col(timestamp_null(C::LeaseExpiresAt))
                    .col(ColumnDef::new(C::Attempts).integer().not_null().default(0))
                    .col(ColumnDef::new(C::TakenOverFrom).string_len(200).null())
                    .col(timestamp(C::CreatedAt))
                    .col(timestamp(C::UpdatedAt))
                    .col(timestamp_null(C::StartedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("booking_calls_status_idx")
                    .table(C::Table)
                    .col(C::Status)
                    .col(C::CreatedAt)
                    .to_owned(),
            )
            .await?;

        use Events as E;
        manager
            .create_table(
                Table::create()
                    .table(E::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(E::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(E::Sequence).big_integer().not_null())
                    .col(ColumnDef::new(E::Type).string_len(64).not_null())
                    .col(ColumnDef::new(E::SubjectId).uuid().not_null())
                    .col(ColumnDef::new(E::AccountId).uuid().null())
                    .col(ColumnDef::new(E::Payload).text().not_null())
                    .col(timestamp(E::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("events_sequence_key")
                    .table(E::Table)
                    .col(E::Sequence)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("events_account_sequence_idx")
                    .table(E::Table)
                    .col(E::AccountId)
                    .col(E::Sequence)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EventSequence::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(EventSequence::Id)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(EventSequence::Last).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        let mut first = Query::insert();
        first
            .into_table(EventSequence::Table)
            .columns([EventSequence::Id, EventSequence::Last])
            .values([1.into(), 0i64.into()])
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        manager.exec_stmt(first).await?;

        use EventConsumers as K;
        manager
            .create_table(
                Table::create()
                    .table(K::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(K::Id).uuid().not_null().primary_key())
                    .col(
                        ColumnDef::new(K::Name)
                            .string_len(100)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(K::Position).big_integer().not_null())
                    .col(ColumnDef::new(K::Delivered).big_integer().not_null())
                    .col(ColumnDef::new(K::Status).string_len(20).not_null())
                    .col(ColumnDef::new(K::Error).text().null())
                    .col(ColumnDef::new(K::LeaseOwner).string_len(200).null())
                    .col(ColumnDef::new(K::LeaseToken).uuid().null())
                    .col(timestamp_null(K::LeaseExpiresAt))
                    .col(ColumnDef::new(K::Attempts).integer().not_null().default(0))
                    .col(ColumnDef::new(K::TakenOverFrom).string_len(200).null())
                    .col(timestamp(K::CreatedAt))
                    .col(timestamp(K::UpdatedAt))
                    .col(timestamp_null(K::StartedAt))
                    .to_owned(),
            )
            .await?;

        use ConsumerReceipts as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(R::Consumer).string_len(100).not_null())
                    .col(ColumnDef::new(R::EventId).uuid().not_null())
                    .col(timestamp(R::HandledAt))
                    .primary_key(Index::create().col(R::Consumer).col(R::EventId))
                    .to_owned(),
            )
            .await?;

        use Inbox as N;
        manager
            .create_table(
                Table::create()
                    .table(N::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(N::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(N::AccountId).uuid().not_null())
                    .col(ColumnDef::new(N::Kind).string_len(40).not_null())
                    .col(ColumnDef::new(N::SubjectId).uuid().not_null())
                    .col(ColumnDef::new(N::Title).string_len(300).not_null())
                    .col(ColumnDef::new(N::Message).text().not_null())
                    .col(timestamp(N::CreatedAt))
                    .col(timestamp_null(N::ReadAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("inbox_account_created_idx")
                    .table(N::Table)
                    .col(N::AccountId)
                    .col(N::CreatedAt)
                    .col(N::Id)
                    .to_owned(),
            )
            .await?;

        use BookingStats as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(S::Day).date().not_null())
                    .col(ColumnDef::new(S::Origin).string_len(3).not_null())
                    .col(ColumnDef::new(S::Destination).string_len(3).not_null())
                    .col(ColumnDef::new(S::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(S::Bookings).big_integer().not_null())
                    .col(ColumnDef::new(S::Seats).big_integer().not_null())
                    .col(ColumnDef::new(S::RevenueMinor).big_integer().not_null())
                    .col(ColumnDef::new(S::Cancellations).big_integer().not_null())
                    .col(ColumnDef::new(S::RefundedMinor).big_integer().not_null())
                    .primary_key(
                        Index::create()
                            .col(S::Day)
                            .col(S::Origin)
                            .col(S::Destination)
                            .col(S::Currency),
                    )
                    .to_owned(),
            )
            .await?;
        use SearchStats as Q;
        manager
            .create_table(
                Table::create()
                    .table(Q::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Q::Day).date().not_null())
                    .col(ColumnDef::new(Q::Origin).string_len(3).not_null())
                    .col(ColumnDef::new(Q::Destination).string_len(3).not_null())
                    .col(ColumnDef::new(Q::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(Q::Searches).big_integer().not_null())
                    .col(ColumnDef::new(Q::BestPriceMinor).big_integer().null())
                    .primary_key(
                        Index::create()
                            .col(Q::Day)
                            .col(Q::Origin)
                            .col(Q::Destination)
                            .col(Q::Currency),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SearchStats::Table.into_iden(),
            BookingStats::Table.into_iden(),
            Inbox::Table.into_iden(),
            ConsumerReceipts::Table.into_iden(),
            EventConsumers::Table.into_iden(),
            EventSequence::Table.into_iden(),
            Events::Table.into_iden(),
            BookingCalls::Table.into_iden(),
            Bookings::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
