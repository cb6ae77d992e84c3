//! `inbox` and `markRead`: each account's notifications, kept by the notifications
//! consumer, for what happened while nobody was watching.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use store::InboxRecord;
use uuid::Uuid;

use super::ApiContext;
use super::notifications::NotificationKind;
use crate::auth::Caller;
use crate::cursor;
use crate::error::ApiError;

/// A notification kept in the account's inbox.
#[derive(SimpleObject)]
pub struct InboxNotification {
    /// The id of the event it comes from.
    pub id: Uuid,
    pub kind: NotificationKind,
    /// The booking, search or import it is about.
    pub subject_id: Uuid,
    pub title: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

impl TryFrom<InboxRecord> for InboxNotification {
    type Error = ApiError;

    fn try_from(n: InboxRecord) -> Result<Self, ApiError> {
        let kind = NotificationKind::parse(&n.kind).ok_or_else(|| {
            tracing::error!(kind = %n.kind, id = %n.id, "an inbox notification of an unknown kind");
            ApiError::Internal
        })?;
        Ok(Self {
            id: n.id,
            kind,
            subject_id: n.subject_id,
            title: n.title,
            message: n.message,
            created_at: n.created_at,
            read_at: n.read_at,
        })
    }
}

#[derive(Default)]
pub struct InboxQuery;

#[Object]
impl InboxQuery {
    /// The caller's notifications, newest first (`unreadOnly`: those not marked read).
    #[graphql(complexity = "crate::query_limits::page(first, child_complexity)")]
    async fn inbox(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(default)] unread_only: bool,
    ) -> Result<Connection<String, InboxNotification>> {
        let api = ctx.data::<ApiContext>()?;
        let viewer = Caller::of(ctx).user()?;
        let first = cursor::page_size(first)?;
        let after: Option<Uuid> = after.map(|raw| cursor::decode("after", &raw)).transpose()?;
        let page = api
            .store
            .inbox_page(viewer.id, first, after, unread_only)
            .await
            .map_err(ApiError::from)?;
        let mut connection = Connection::new(after.is_some(), page.has_next);
        for n in page.items {
            connection.edges.push(Edge::new(
                cursor::encode(&n.id),
                InboxNotification::try_from(n)?,
            ));
        }
        Ok(connection)
    }

    /// How many of the caller's notifications are not marked read.
    async fn unread_notifications(&self, ctx: &Context<'_>) -> Result<i64> {
        let api = ctx.data::<ApiContext>()?;
        let viewer = Caller::of(ctx).user()?;
        let n = api
            .store
            .unread_count(viewer.id)
            .await
            .map_err(ApiError::from)?;
        Ok(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

#[derive(Default)]
pub struct InboxMutation;

#[Object]
impl InboxMutation {
    /// Marks the caller's notifications `ids` read (every one when `ids` is null); gives
    /// how many were unread. Others' ids are ignored.
    async fn mark_read(&self, ctx: &Context<'_>, ids: Option<Vec<Uuid>>) -> Result<i64> {
        let api = ctx.data::<ApiContext>()?;
        let viewer = Caller::of(ctx).user()?;
        if ids.as_ref().is_some_and(|ids| ids.len() > 100) {
            return Err(ApiError::bad_input("ids", "at most 100 at once; or null for all").into());
        }
        let n = api
            .store
            .mark_read(viewer.id, ids.as_deref())
            .await
            .map_err(ApiError::from)?;
        Ok(i64::try_from(n).unwrap_or(i64::MAX))
    }
}
