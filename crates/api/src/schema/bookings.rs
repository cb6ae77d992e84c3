//! Bookings: `bookFlight`, `cancelBooking`, `booking`, `bookings`.

use async_graphql::connection::Connection;
use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, Enum, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use domain::{BookingStatus, RawPassenger};
use store::{Booked, BookingRecord, JobEvent, NewBooking, OfferColumns};
use uuid::Uuid;

use super::ApiContext;
use super::jobs::{JobScope, visible_job};
use super::types::{Date, FlightOffer, Money, offer_columns};
use crate::auth::Caller;
use crate::cursor;
use crate::error::ApiError;
use crate::loaders::{OfferKey, OfferLoader};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "BookingStatus")]
pub enum GqlBookingStatus {
    /// Stored; a worker is asking the provider.
    Pending,
    Confirmed,
    /// Not booked: see `errorCode` and `error`.
    Failed,
    Cancelled,
}

impl From<BookingStatus> for GqlBookingStatus {
    fn from(s: BookingStatus) -> Self {
        match s {
            BookingStatus::Pending => Self::Pending,
            BookingStatus::Confirmed => Self::Confirmed,
            BookingStatus::Failed => Self::Failed,
            BookingStatus::Cancelled => Self::Cancelled,
        }
    }
}

impl From<GqlBookingStatus> for BookingStatus {
    fn from(s: GqlBookingStatus) -> Self {
        match s {
            GqlBookingStatus::Pending => Self::Pending,
            GqlBookingStatus::Confirmed => Self::Confirmed,
            GqlBookingStatus::Failed => Self::Failed,
            GqlBookingStatus::Cancelled => Self::Cancelled,
        }
    }
}

#[derive(InputObject)]
pub struct PassengerInput {
    pub given_name: String,
    pub family_name: String,
    pub born_on: Option<Date>,
    pub email: Option<String>,
}

#[derive(InputObject)]
pub struct BookFlightInput {
    /// An offer of one of the caller's searches.
    pub offer_id: uuid::Uuid,
    /// As many as the search's `adults`.
    pub passengers: Vec<PassengerInput>,
    /// Made by the client, up to 200 characters: the same key with the same input returns
    /// the same booking; with another input, CONFLICT.
    pub idempotency_key: String,
    /// The price agreed to, in minor units of the offer's currency, for all passengers.
    /// Default: the offer's price. After PRICE_CHANGED, the new price, to accept it.
    pub expected_price_minor: Option<i64>,
}

#[derive(SimpleObject, Clone)]
pub struct Passenger {
    pub given_name: String,
    pub family_name: String,
    pub born_on: Option<Date>,
    pub email: Option<String>,
}

/// A booking of an offer. Catalogue flights are CONFIRMED at once; other providers' are
/// PENDING until a worker has the provider's answer (follow `notifications`, or read
/// `booking(id)` again).
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Booking {
    pub id: Uuid,
    pub status: GqlBookingStatus,
    /// What was booked, for all passengers.
    pub price: Money,
    pub passengers: Vec<Passenger>,
    pub provider: String,
    /// Seats held: one per passenger.
    pub seats: i32,
    /// The provider's (or, for catalogue flights, our) booking reference.
    pub provider_reference: Option<String>,
    /// Why it failed, in words.
    pub error: Option<String>,
    /// `PRICE_CHANGED`, `OFFER_EXPIRED`, `PROVIDER_REFUSED` or `PROVIDER_FAILED`.
    pub error_code: Option<String>,
    /// The price the provider asks now (`PRICE_CHANGED`): book again with
    /// `expectedPriceMinor` set to it to accept it.
    pub new_price: Option<Money>,
    pub idempotency_key: String,
    pub account_id: Uuid,
    /// The search the offer was found by.
    pub job_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub offer_id: Uuid,
}

#[ComplexObject]
impl Booking {
    /// The offer booked.
    async fn offer(&self, ctx: &Context<'_>) -> Result<Option<FlightOffer>> {
        let loader = ctx.data::<DataLoader<OfferLoader>>()?;
        let columns = offer_columns(&ctx.look_ahead());
        Ok(loader
            .load_one(OfferKey {
                id: self.offer_id,
                columns,
            })
            .await?
            .map(FlightOffer::from))
    }
}

impl From<BookingRecord> for Booking {
    fn from(b: BookingRecord) -> Self {
        Self {
            id: b.id,
            status: b.status.into(),
            price: b.price.into(),
            passengers: b
                .passengers
                .into_iter()
                .map(|p| Passenger {
                    given_name: p.given_name,
                    family_name: p.family_name,
                    born_on: p.born_on.map(Date),
                    email: p.email,
                })
                .collect(),
            provider: b.provider,
            seats: i32::try_from(b.seats).unwrap_or(i32::MAX),
            provider_reference: b.provider_reference,
            error: b.error,
            error_code: b.error_code,
            new_price: b.new_price.map(Into::into),
            idempotency_key: b.idempotency_key,
            account_id: b.account_id,
            job_id: b.job_id,
            created_at: b.created_at,
            updated_at: b.updated_at,
            confirmed_at: b.confirmed_at,
            cancelled_at: b.cancelled_at,
            offer_id: b.offer_id,
        }
    }
}

/// The booking `id` if the caller may see it; somebody else's is NOT_FOUND, like one that
/// does not exist.
async fn visible_booking(ctx: &Context<'_>, id: Uuid) -> Result<BookingRecord, ApiError> {
    let api = ctx.data::<ApiContext>().map_err(|_| ApiError::Internal)?;
    let viewer = Caller::of(ctx).user()?;
    api.store
        .booking(id)
        .await?
        .filter(|b| viewer.may_see(Some(b.account_id)))
        .ok_or_else(|| ApiError::NotFound(format!("booking {id}")))
}

#[derive(Default)]
pub struct BookingQuery;

#[Object]
impl BookingQuery {
    /// A booking of the caller's (admins: anyone's).
    async fn booking(&self, ctx: &Context<'_>, id: Uuid) -> Result<Option<Booking>> {
        Ok(Some(visible_booking(ctx, id).await?.into()))
    }

    /// Bookings, newest first: the caller's own, or with `scope: ALL` (admins only)
    /// everybody's.
    #[graphql(complexity = "crate::query_limits::page(first, child_complexity)")]
    async fn bookings(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<GqlBookingStatus>,
        #[graphql(default)] scope: JobScope,
    ) -> Result<Connection<String, Booking>> {
        let api = ctx.data::<ApiContext>()?;
        let caller = Caller::of(ctx);
        let account = match scope {
            JobScope::Mine => Some(caller.user()?.id),
            JobScope::All => {
                caller.admin()?;
                None
            }
        };
        let first = cursor::page_size(first)?;
        let after: Option<Uuid> = after.map(|raw| cursor::decode("after", &raw)).transpose()?;
        let page = api
            .reads(ctx)
            .bookings_page(first, after, status.map(Into::into), account)
            .await
            .map_err(ApiError::from)?;
        Ok(cursor::connection(
            after.is_some(),
            page,
            |b| b.id,
            Booking::from,
        ))
    }
}

#[derive(Default)]
pub struct BookingMutation;

fn refused(e: store::StoreError) -> ApiError {
    match e {
        store::StoreError::BookingRefused(refusal) => ApiError::Booking(refusal),
        other => ApiError::from(other),
    }
}

#[Object]
impl BookingMutation {
    /// Books an offer of one of the caller's searches. A catalogue flight's seats are taken
    /// at once (SOLD_OUT if too few are left) and the booking is CONFIRMED; another
    /// provider's booking is PENDING until a worker has the provider's answer. Sending the
    /// same `idempotencyKey` with the same input again returns the same booking.
    async fn book_flight(&self, ctx: &Context<'_>, input: BookFlightInput) -> Result<Booking> {
        let api = ctx.data::<ApiContext>()?;
        let viewer = Caller::of(ctx).user()?;
        let key = domain::parse_idempotency_key(&input.idempotency_key)
            .map_err(|e| ApiError::bad_input(e.field, e.message))?;
        let not_found = || ApiError::NotFound(format!("flight offer {}", input.offer_id));
        let offer = api
            .store
            .offer(input.offer_id, OfferColumns::ALL)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(not_found)?;
        // Only the caller's own searches' offers, admins included: a booking is made by
        // the traveller who searched.
        let job = match visible_job(ctx, offer.job_id).await {
            Ok(job) if job.owner_id == Some(viewer.id) => job,
            Ok(_) | Err(ApiError::NotFound(_)) => return Err(not_found().into()),
            Err(e) => return Err(e.into()),
        };
        let passengers = domain::parse_passengers(
            input
                .passengers
                .into_iter()
                .map(|p| RawPassenger {
                    given_name: p.given_name,
                    family_name: p.family_name,
                    born_on: p.born_on.map(|d| d.0),
                    email: p.email,
                })
                .collect(),
            job.spec.adults,
            Utc::now().date_naive(),
        )
        .map_err(|e| ApiError::bad_input(e.field, e.message))?;
        let currency = offer.offer.price.currency;
        let expected_price = match input.expected_price_minor {
            None => offer.offer.price,
            Some(minor) => domain::Money::new(minor, currency)
                .map_err(|e| ApiError::bad_input("expectedPriceMinor", e.to_string()))?,
        };
        let catalogue = api
            .providers
            .info(&offer.offer.provider)
            .is_some_and(|info| info.kind == "inventory");
        let catalogue_flights = if catalogue {
            Some(catalogue_flights(&offer.offer).ok_or_else(|| {
                tracing::error!(offer_id = %offer.id, "a catalogue offer without its flights");
                ApiError::Internal
            })?)
        } else {
            let bookable = api
                .providers
                .get(&offer.offer.provider)
                .is_some_and(|p| p.capabilities().booking);
            if !bookable {
                return Err(ApiError::bad_input(
                    "offerId",
                    format!(
                        "the provider `{}` does not take bookings here; book it at the provider{}",
                        offer.offer.provider,
                        offer
                            .offer
                            .deep_link
                            .as_deref()
                            .map(|l| format!(" ({l})"))
                            .unwrap_or_default()
                    ),
                )
                .into());
            }
            // The same request again answers its booking, whatever happened since.
            let replay = api
                .store
                .booking_with_key(viewer.id, &key)
                .await
                .map_err(ApiError::from)?
                .is_some();
            if !replay {
                // The provider told a booking of this offer before that its price moved:
                // nothing is booked until the traveller takes the new price; and a price
                // the offer was never quoted at is a mistake.
                let repriced = api
                    .store
                    .repriced(viewer.id, offer.id)
                    .await
                    .map_err(ApiError::from)?;
                match repriced {
                    Some(price) if price != expected_price => {
                        return Err(ApiError::Booking(store::BookingRefused::PriceChanged {
                            price,
                        })
                        .into());
                    }
                    None if expected_price != offer.offer.price => {
                        return Err(ApiError::bad_input(
                            "expectedPriceMinor",
                            format!(
                                "{} is not a price this offer was quoted at: it costs {}; give \
                                 another price only after PRICE_CHANGED, to accept the new one",
                                expected_price, offer.offer.price
                            ),
                        )
                        .into());
                    }
                    _ => {}
                }
            }
            None
        };
        let (booked, _events) = api
            .store
            .create_booking(NewBooking {
                account_id: viewer.id,
                offer,
                passengers,
                idempotency_key: key,
                expected_price,
                catalogue_flights,
            })
            .await
            .map_err(refused)?;
        if let Booked::Created(b) = &booked {
            tracing::info!(booking_id = %b.id, status = b.status.as_str(), "booking stored");
            api.events.publish(JobEvent::Booking(b.id));
        }
        Ok(booked.record().clone().into())
    }

    /// Cancels a CONFIRMED booking of the caller's (admins: anyone's); a catalogue flight's
    /// seats go back. CONFLICT when it is not confirmed (cancelled already, failed, or
    /// still PENDING at the provider).
    async fn cancel_booking(&self, ctx: &Context<'_>, id: Uuid) -> Result<Booking> {
        let api = ctx.data::<ApiContext>()?;
        visible_booking(ctx, id).await?;
        let (booking, _events) = api.store.cancel_booking(id).await.map_err(refused)?;
        api.events.publish(JobEvent::Booking(booking.id));
        Ok(booking.into())
    }
}

/// The catalogue flights a catalogue offer stands for: its booking token is the outbound
/// flight's id, or `outbound+return`.
fn catalogue_flights(offer: &domain::FlightOffer) -> Option<Vec<Uuid>> {
    offer
        .booking_token
        .as_deref()?
        .split('+')
        .map(|id| id.parse().ok())
        .collect()
}
