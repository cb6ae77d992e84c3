//! `events`: the outbox as integrators read it, in the spirit of Stripe's `/v1/events`.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use store::EventRecord;
use uuid::Uuid;

use super::ApiContext;
use crate::auth::Caller;
use crate::cursor;
use crate::error::ApiError;

/// Something that happened, as written in the transaction of the change itself. Payloads
/// are versioned (`payload.v`) and described in docs/events.md.
#[derive(SimpleObject)]
pub struct Event {
    pub id: Uuid,
    /// Increases with every event, in commit order: page with `after`.
    pub sequence: i64,
    /// `booking.created`, `booking.confirmed`, `booking.failed`, `booking.cancelled`,
    /// `search.succeeded`, `search.failed`, `import.finished`.
    #[graphql(name = "type")]
    pub event_type: String,
    /// The booking, search or import it is about.
    pub subject_id: Uuid,
    pub account_id: Option<Uuid>,
    pub payload: async_graphql::Json<serde_json::Value>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<EventRecord> for Event {
    type Error = ApiError;

    fn try_from(e: EventRecord) -> Result<Self, ApiError> {
        let payload = serde_json::from_str(&e.payload).map_err(|err| {
            tracing::error!(event_id = %e.id, error = %err, "an event's payload is not JSON");
            ApiError::Internal
        })?;
        Ok(Self {
            id: e.id,
            sequence: e.sequence,
            event_type: e.event_type,
            subject_id: e.subject_id,
            account_id: e.account_id,
            payload: async_graphql::Json(payload),
            created_at: e.created_at,
        })
    }
}

#[derive(Default)]
pub struct EventQuery;

#[Object]
impl EventQuery {
    /// Events oldest first, after the event whose cursor (its `sequence`, as a string) is
    /// `after`: the caller's own, or every event for admins. `types` keeps only those.
    #[graphql(complexity = "crate::query_limits::page(first, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        types: Option<Vec<String>>,
    ) -> Result<Connection<String, Event>> {
        let api = ctx.data::<ApiContext>()?;
        let viewer = Caller::of(ctx).user()?;
        let account = (!viewer.is_admin()).then_some(viewer.id);
        let first = cursor::page_size(first)?;
        let after = after
            .map(|raw| {
                raw.trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| {
                        ApiError::bad_input(
                            "after",
                            format!("`{raw}` is not a cursor of this list (an event's sequence)"),
                        )
                    })
            })
            .transpose()?;
        if let Some(types) = &types
            && let Some(unknown) = types
                .iter()
                .find(|t| !domain::event_type::ALL.contains(&t.as_str()))
        {
            return Err(ApiError::bad_input(
                "types",
                format!(
                    "`{unknown}` is not an event type; use {}",
                    domain::event_type::ALL.join(", ")
                ),
            )
            .into());
        }
        let page = api
            .reads(ctx)
            .events_page(first, after, types.as_deref(), account)
            .await
            .map_err(ApiError::from)?;
        let mut connection = Connection::new(after.is_some_and(|a| a > 0), page.has_next);
        for event in page.items {
            let cursor = event.sequence.to_string();
            connection
                .edges
                .push(Edge::new(cursor, Event::try_from(event)?));
        }
        Ok(connection)
    }
}
