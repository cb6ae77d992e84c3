use sea_orm_migration::prelude::*;

/// Webhooks (docs/webhooks.md):
/// - `webhook_endpoints`: where deliveries go, the event types taken, and the signing
///   secret sealed with the operator's key (`WEBHOOK_SECRETS_KEY`), with the previous one
///   for a day after a rotation. `start_sequence`: the outbox position when the endpoint
///   was made; it gets the events after it.
/// - `webhook_deliveries`: one event to one endpoint, lease-held work (claimed like
///   searches): QUEUED until due (`next_attempt_at`), RUNNING while being sent, then
///   SUCCEEDED or FAILED. `ordered` ones go in sequence order per endpoint.
/// - `webhook_attempts`: every request made, with its answer.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    Url,
    EventTypes,
    Description,
    Enabled,
    Parallel,
    Secret,
    PreviousSecret,
    PreviousSecretExpiresAt,
    StartSequence,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    FailingSince,
    DisabledAt,
    DisabledReason,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    EndpointId,
    EventId,
    EventSequence,
    EventType,
    Ordered,
    Status,
    NextAttemptAt,
    WindowStartedAt,
    LastStatusCode,
    LastError,
    FinishedAt,
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
enum WebhookAttempts {
    Table,
    Id,
    DeliveryId,
    AttemptedAt,
    StatusCode,
    LatencyMs,
    ResponseBody,
    Error,
    Worker,
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
        use WebhookEndpoints as E;
        manager
            .create_table(
                Table::create()
                    .table(E::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(E::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(E::Url).text().not_null())
                    .col(ColumnDef::new(E::EventTypes).text().not_null())
                    .col(ColumnDef::new(E::Description).text().null())
                    .col(ColumnDef::new(E::Enabled).boolean().not_null())
                    .col(ColumnDef::new(E::Parallel).boolean().not_null())
                    .col(ColumnDef::new(E::Secret).text().not_null())
                    .col(ColumnDef::new(E::PreviousSecret).text().null())
                    .col(timestamp_null(E::PreviousSecretExpiresAt))
                    .col(ColumnDef::new(E::StartSequence).big_integer().not_null())
                    .col(ColumnDef::new(E::CreatedBy).uuid().null())
                    .col(timestamp(E::CreatedAt))
                    .col(timestamp(E::UpdatedAt))
                    .col(timestamp_null(E::FailingSince))
                    .col(timestamp_null(E::DisabledAt))
                    .col(ColumnDef::new(E::DisabledReason).text().null())
                    .to_owned(),
            )
            .await?;

        use WebhookDeliveries as D;
        manager
            .create_table(
                Table::create()
                    .table(D::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(D::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(D::EndpointId).uuid().not_null())
                    .col(ColumnDef::new(D::EventId).uuid().not_null())
                    .col(ColumnDef::new(D::EventSequence).big_integer().not_null())
                    .col(ColumnDef::new(D::EventType).string_len(64).not_null())
                    .col(ColumnDef::new(D::Ordered).boolean().not_null())
                    .col(ColumnDef::new(D::Status).string_len(20).not_null())
                    .col(timestamp(D::NextAttemptAt))
                    .col(timestamp(D::WindowStartedAt))
                    .col(ColumnDef::new(D::LastStatusCode).integer().null())
                    .col(ColumnDef::new(D::LastError).text().null())
                    .col(timestamp_null(D::FinishedAt))
                    .col(ColumnDef::new(D::LeaseOwner).string_len(200).null())
                    .col(ColumnDef::new(D::LeaseToken).uuid().null())
                    .col(timestamp_null(D::LeaseExpiresAt))
                    .col(ColumnDef::new(D::Attempts).integer().not_null().default(0))
                    .col(ColumnDef::new(D::TakenOverFrom).string_len(200).null())
                    .col(timestamp(D::CreatedAt))
                    .col(timestamp(D::UpdatedAt))
                    .col(timestamp_null(D::StartedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("webhook_deliveries_endpoint_event_key")
                    .table(D::Table)
                    .col(D::EndpointId)
                    .col(D::EventId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("webhook_deliveries_status_due_idx")
                    .table(D::Table)
                    .col(D::Status)
                    .col(D::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("webhook_deliveries_endpoint_sequence_idx")
                    .table(D::Table)
                    .col(D::EndpointId)
                    .col(D::EventSequence)
                    .to_owned(),
            )
            .await?;

        use WebhookAttempts as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(A::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(A::DeliveryId).uuid().not_null())
                    .col(timestamp(A::AttemptedAt))
                    .col(ColumnDef::new(A::StatusCode).integer().null())
                    .col(ColumnDef::new(A::LatencyMs).big_integer().not_null())
                    .col(ColumnDef::new(A::ResponseBody).text().null())
                    .col(ColumnDef::new(A::Error).text().null())
                    .col(ColumnDef::new(A::Worker).string_len(200).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("webhook_attempts_delivery_idx")
                    .table(A::Table)
                    .col(A::DeliveryId)
                    .col(A::AttemptedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            WebhookAttempts::Table.into_iden(),
            WebhookDeliveries::Table.into_iden(),
            WebhookEndpoints::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
