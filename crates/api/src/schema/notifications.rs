//! `notifications`: what the signed-in account should hear about wherever it is in the web
//! app — its searches queued (so lists elsewhere can show them) and ending, and for admins,
//! imports ending.

use std::collections::HashSet;

use async_graphql::{Context, Enum, Result, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use domain::JobStatus;
use futures::Stream;
use store::ImportStatus;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use super::live::{LiveFeed, News};
use crate::auth::Caller;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum NotificationKind {
    /// A search was started or resumed and waits for a worker: not news to announce, but
    /// a list of searches open elsewhere can show it.
    SearchQueued,
    SearchSucceeded,
    SearchFailed,
    SearchCancelled,
    ImportSucceeded,
    ImportFailed,
    BookingConfirmed,
    /// Not booked: the message says why (a new price, the offer gone, the provider).
    BookingFailed,
    BookingCancelled,
    /// A webhook endpoint failed every delivery for too long and was disabled (admins).
    WebhookDisabled,
}

impl NotificationKind {
    /// The kind stored in the inbox as `name` (`BOOKING_CONFIRMED`, …).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "SEARCH_QUEUED" => Self::SearchQueued,
            "SEARCH_SUCCEEDED" => Self::SearchSucceeded,
            "SEARCH_FAILED" => Self::SearchFailed,
            "SEARCH_CANCELLED" => Self::SearchCancelled,
            "IMPORT_SUCCEEDED" => Self::ImportSucceeded,
            "IMPORT_FAILED" => Self::ImportFailed,
            "BOOKING_CONFIRMED" => Self::BookingConfirmed,
            "BOOKING_FAILED" => Self::BookingFailed,
            "BOOKING_CANCELLED" => Self::BookingCancelled,
            "WEBHOOK_DISABLED" => Self::WebhookDisabled,
            _ => return None,
        })
    }
}

/// Something that happened to the account's searches (or, for admins, imports).
#[derive(SimpleObject, Clone, Debug)]
pub struct Notification {
    pub kind: NotificationKind,
    /// The search it is about.
    pub job_id: Option<Uuid>,
    /// The import it is about.
    pub import_id: Option<Uuid>,
    /// The booking it is about.
    pub booking_id: Option<Uuid>,
    /// One line, e.g. "London to Bangkok finished".
    pub title: String,
    pub message: String,
    pub at: DateTime<Utc>,
}

#[derive(Default)]
pub struct NotificationSubscription;

/// `n` things, thousands separated as the web app writes counts: "1 flight", "12,400 flights".
fn plural(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{} {what}s", domain::spec::thousands(n))
    }
}

/// A search's name in a message: its label, or its route.
fn search_name(job: &store::JobRecord) -> String {
    let codes = |list: &[domain::AirportCode]| {
        list.iter()
            .map(|c| c.as_str().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    job.label.clone().unwrap_or_else(|| {
        format!(
            "{} to {}",
            codes(&job.spec.requested_origins),
            codes(&job.spec.requested_destinations)
        )
    })
}

fn about_job(job: &store::JobRecord, viewer: crate::Viewer) -> Option<Notification> {
    if job.owner_id != Some(viewer.id) {
        return None;
    }
    let name = search_name(job);
    let money = |m: domain::Money| m.for_people();
    let (kind, title, message) = match job.status {
        JobStatus::Succeeded => (
            NotificationKind::SearchSucceeded,
            format!("{name} finished"),
            match job.best_price {
                Some(best) => format!(
                    "{} found; the cheapest is {}",
                    plural(job.found_flights, "flight"),
                    money(best)
                ),
                None => "No flights found.".to_string(),
            },
        ),
        JobStatus::Failed => (
            NotificationKind::SearchFailed,
            format!("{name} failed"),
            job.error
                .clone()
                .unwrap_or_else(|| "The search failed.".into()),
        ),
        JobStatus::Cancelled => (
            NotificationKind::SearchCancelled,
            format!("{name} was cancelled"),
            format!(
                "{} found before it stopped.",
                plural(job.found_flights, "flight")
            ),
        ),
        _ => return None,
    };
    Some(Notification {
        kind,
        job_id: Some(job.id),
        import_id: None,
        booking_id: None,
        title,
        message,
        at: job.finished_at.unwrap_or(job.updated_at),
    })
}

/// A search of the account's was queued (a worker may have claimed it by now).
fn queued(job: &store::JobRecord, viewer: crate::Viewer) -> Option<Notification> {
    if job.owner_id != Some(viewer.id) || job.status.is_terminal() {
        return None;
    }
    Some(Notification {
        kind: NotificationKind::SearchQueued,
        job_id: Some(job.id),
        import_id: None,
        booking_id: None,
        title: format!("{} queued", search_name(job)),
        message: match job.total_tasks {
            1 => "1 provider query to make.".to_string(),
            n => format!("{n} provider queries to make."),
        },
        at: job.updated_at,
    })
}

fn about_import(import: &store::ImportRecord) -> Option<Notification> {
    let (kind, title, message) = match import.status {
        ImportStatus::Succeeded => (
            NotificationKind::ImportSucceeded,
            format!("Import of {} finished", import.filename),
            format!(
                "{} imported, {} rejected.",
                plural(import.rows_imported, "flight"),
                plural(import.rows_rejected, "row")
            ),
        ),
        ImportStatus::Failed => (
            NotificationKind::ImportFailed,
            format!("Import of {} failed", import.filename),
            import.error.clone().unwrap_or_default(),
        ),
        _ => return None,
    };
    Some(Notification {
        kind,
        job_id: None,
        import_id: Some(import.id),
        booking_id: None,
        title,
        message,
        at: import.finished_at.unwrap_or(import.updated_at),
    })
}

fn about_booking(b: &store::BookingRecord, viewer: crate::Viewer) -> Option<Notification> {
    if b.account_id != viewer.id {
        return None;
    }
    let route = format!("{} → {}", b.offer.origin, b.offer.destination);
    let seats = plural(u64::from(b.seats), "seat");
    // The date as the web app writes it: "Tue 5 Jan 2027".
    let departing = b.offer.departure_at.format("%a %-d %b %Y");
    let (kind, title, message) = match b.status {
        domain::BookingStatus::Confirmed => (
            NotificationKind::BookingConfirmed,
            format!("Booking confirmed: {route}"),
            format!(
                "{seats}, departing {departing}, {} — reference {}",
                b.price.for_people(),
                b.provider_reference.as_deref().unwrap_or("")
            ),
        ),
        domain::BookingStatus::Failed => (
            NotificationKind::BookingFailed,
            format!("Booking not made: {route}"),
            b.error.clone().unwrap_or_default(),
        ),
        domain::BookingStatus::Cancelled => (
            NotificationKind::BookingCancelled,
            format!("Booking cancelled: {route}"),
            format!("{seats}, departing {departing}, {}", b.price.for_people()),
        ),
        domain::BookingStatus::Pending => return None,
    };
    Some(Notification {
        kind,
        job_id: Some(b.job_id),
        import_id: None,
        booking_id: Some(b.id),
        title,
        message,
        at: b.updated_at,
    })
}

#[Subscription]
impl NotificationSubscription {
    /// The signed-in account's searches as they are queued (started or resumed) and as they
    /// end (succeeded, failed, cancelled), its bookings as they are confirmed, fail or are
    /// cancelled, and for admins imports as they end. Only what happens while subscribed;
    /// each end is told once. What happened while away is kept in `inbox`.
    async fn notifications(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Notification> + use<>> {
        let viewer = Caller::of(ctx).user()?;
        let mut news = ctx.data::<LiveFeed>()?.news();
        Ok(async_stream::stream! {
            // An end is announced once, however many events repeat it.
            let mut told: HashSet<Uuid> = HashSet::new();
            let mut told_bookings: HashSet<(Uuid, domain::BookingStatus)> = HashSet::new();
            loop {
                let note = match news.recv().await {
                    Ok(News::JobEnded(job)) if !told.contains(&job.id) => about_job(&job, viewer),
                    Ok(News::Queued(job)) => queued(&job, viewer),
                    Ok(News::Import(import)) if viewer.is_admin() && !told.contains(&import.id) => {
                        about_import(&import)
                    }
                    Ok(News::Booking(booking)) => {
                        if told_bookings.insert((booking.id, booking.status)) {
                            about_booking(&booking, viewer)
                        } else {
                            None
                        }
                    }
                    Ok(_) | Err(RecvError::Lagged(_)) => None,
                    Err(RecvError::Closed) => break,
                };
                if let Some(note) = note {
                    if note.kind != NotificationKind::SearchQueued && note.booking_id.is_none() {
                        told.insert(note.job_id.or(note.import_id).unwrap_or_default());
                    }
                    yield note;
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::plural;

    #[test]
    fn counts_have_thousands_separators() {
        assert_eq!(plural(1, "flight"), "1 flight");
        assert_eq!(plural(0, "flight"), "0 flights");
        assert_eq!(plural(12_400, "flight"), "12,400 flights");
    }
}
