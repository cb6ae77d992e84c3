//! GraphQL types shared by several areas, each built from a domain or store value.

use std::borrow::Cow;

use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::{ComplexObject, Context, Enum, Positioned, Result, SimpleObject, Value};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use domain::{AirportCode, AirportDb, Cabin, JobStatus};
use store::{JobRecord, OfferRecord};
use uuid::Uuid;

use crate::loaders::{JobLoader, OfferKey, OfferLoader, UserLoader};
use async_graphql::dataloader::DataLoader;

/// An amount of money in integer minor units (cents for EUR, yen for JPY).
#[derive(SimpleObject, Clone, Copy)]
#[graphql(complex)]
pub struct Money {
    pub minor_units: i64,
    /// ISO 4217 code.
    pub currency: &'static str,
}

#[ComplexObject]
impl Money {
    /// The amount as a decimal string, e.g. "123.45".
    async fn amount(&self) -> String {
        self.amount_text()
    }
}

impl Money {
    fn amount_text(&self) -> String {
        let text = self.domain().to_string();
        text.split(' ').next().unwrap_or_default().to_string()
    }

    fn plain_field(&self, field: &Field) -> Option<Value> {
        Some(match field.name.node.as_str() {
            "minorUnits" => scalar(&self.minor_units),
            "currency" => Value::String(self.currency.to_string()),
            "amount" => Value::String(self.amount_text()),
            _ => return None,
        })
    }

    fn domain(&self) -> domain::Money {
        domain::Money {
            minor_units: self.minor_units,
            currency: domain::Currency::parse(self.currency).unwrap_or(domain::Currency::EUR),
        }
    }
}

impl From<domain::Money> for Money {
    fn from(m: domain::Money) -> Self {
        Self {
            minor_units: m.minor_units,
            currency: m.currency.code(),
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "JobStatus")]
pub enum GqlJobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    Paused,
}

impl From<JobStatus> for GqlJobStatus {
    fn from(s: JobStatus) -> Self {
        match s {
            JobStatus::Queued => Self::Queued,
            JobStatus::Running => Self::Running,
            JobStatus::Succeeded => Self::Succeeded,
            JobStatus::Failed => Self::Failed,
            JobStatus::Cancelled => Self::Cancelled,
            JobStatus::Paused => Self::Paused,
        }
    }
}

impl From<GqlJobStatus> for JobStatus {
    fn from(s: GqlJobStatus) -> Self {
        match s {
            GqlJobStatus::Queued => Self::Queued,
            GqlJobStatus::Running => Self::Running,
            GqlJobStatus::Succeeded => Self::Succeeded,
            GqlJobStatus::Failed => Self::Failed,
            GqlJobStatus::Cancelled => Self::Cancelled,
            GqlJobStatus::Paused => Self::Paused,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
#[graphql(name = "Cabin")]
pub enum GqlCabin {
    #[default]
    Economy,
    PremiumEconomy,
    Business,
    First,
}

impl From<Cabin> for GqlCabin {
    fn from(c: Cabin) -> Self {
        match c {
            Cabin::Economy => Self::Economy,
            Cabin::PremiumEconomy => Self::PremiumEconomy,
            Cabin::Business => Self::Business,
            Cabin::First => Self::First,
        }
    }
}

impl From<GqlCabin> for Cabin {
    fn from(c: GqlCabin) -> Self {
        match c {
            GqlCabin::Economy => Self::Economy,
            GqlCabin::PremiumEconomy => Self::PremiumEconomy,
            GqlCabin::Business => Self::Business,
            GqlCabin::First => Self::First,
        }
    }
}

#[derive(SimpleObject, Clone, Copy)]
pub struct NightsRange {
    pub min: i32,
    pub max: i32,
}

/// The search as validated: requested codes and the airports they stand for.
#[derive(SimpleObject, Clone)]
pub struct SearchSpecView {
    pub requested_origins: Vec<String>,
    pub requested_destinations: Vec<String>,
    pub origins: Vec<String>,
    pub destinations: Vec<String>,
    pub departure_from: Date,
    pub departure_to: Date,
    /// Null for one-way searches.
    pub nights: Option<NightsRange>,
    pub adults: i32,
    pub cabin: GqlCabin,
    pub max_stops: Option<i32>,
    pub max_price: Option<Money>,
    pub currency: String,
    pub providers: Vec<String>,
}

fn codes(list: &[AirportCode]) -> Vec<String> {
    list.iter().map(ToString::to_string).collect()
}

impl From<&domain::SearchSpec> for SearchSpecView {
    fn from(s: &domain::SearchSpec) -> Self {
        Self {
            requested_origins: codes(&s.requested_origins),
            requested_destinations: codes(&s.requested_destinations),
            origins: codes(&s.origins),
            destinations: codes(&s.destinations),
            departure_from: Date(s.departure_from),
            departure_to: Date(s.departure_to),
            nights: s.nights.map(|n| NightsRange {
                min: i32::from(n.min),
                max: i32::from(n.max),
            }),
            adults: i32::from(s.adults),
            cabin: s.cabin.into(),
            max_stops: s.max_stops.map(i32::from),
            max_price: s.max_price.map(Money::from),
            currency: s.currency.code().to_string(),
            providers: s.providers.clone(),
        }
    }
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A background flight search.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct SearchJob {
    pub id: Uuid,
    pub label: Option<String>,
    pub status: GqlJobStatus,
    pub spec: SearchSpecView,
    /// Provider queries the search expands to.
    pub total_tasks: i64,
    /// Queries finished, failed ones included.
    pub completed_tasks: i64,
    pub failed_tasks: i64,
    pub found_flights: i64,
    /// Queries answered by the provider-answer cache (including answers shared with an
    /// identical query in flight at the same time), without a provider call.
    pub cache_hits: i64,
    /// Queries sent to a provider (a query's retries are not counted again).
    pub provider_calls: i64,
    /// 0 to 100.
    pub percent: f64,
    pub best_price: Option<Money>,
    pub tasks_per_second: f64,
    pub eta_seconds: Option<i64>,
    /// Cancellation was asked for; the job ends CANCELLED at its next checkpoint.
    pub cancel_requested: bool,
    /// A pause was asked for; the job becomes PAUSED at its next checkpoint.
    pub pause_requested: bool,
    pub error: Option<String>,
    /// Times a worker has taken the job up.
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub last_checkpoint_at: Option<DateTime<Utc>>,
    /// The latest failed provider queries (up to 20), newest last.
    pub error_sample: Vec<TaskError>,
    #[graphql(skip)]
    pub best_offer_id: Option<Uuid>,
    /// The account that started the search; null for searches from before accounts.
    pub owner_id: Option<Uuid>,
}

/// The best price at a moment of a search.
#[derive(SimpleObject, Clone)]
pub struct PricePoint {
    pub at: DateTime<Utc>,
    pub price: Money,
}

/// A provider query that failed, with the last error after its retries.
#[derive(SimpleObject, Clone)]
pub struct TaskError {
    pub task_index: i64,
    pub provider: String,
    pub message: String,
    pub at: DateTime<Utc>,
}

/// An airline, by its IATA code.
#[derive(SimpleObject)]
pub struct Airline {
    pub code: String,
    /// Null when the code is not one of the well-known airlines.
    pub name: Option<String>,
}

#[ComplexObject]
impl SearchJob {
    /// The offer behind `bestPrice`.
    async fn best_offer(&self, ctx: &Context<'_>) -> Result<Option<FlightOffer>> {
        let Some(id) = self.best_offer_id else {
            return Ok(None);
        };
        if !may_see(ctx, self.owner_id) {
            return Ok(None);
        }
        let loader = ctx.data::<DataLoader<OfferLoader>>()?;
        let columns = offer_columns(&ctx.look_ahead());
        Ok(loader
            .load_one(OfferKey { id, columns })
            .await?
            .map(FlightOffer::from))
    }

    /// The airlines of the offers found, by code, with their names where known.
    async fn airlines(&self, ctx: &Context<'_>) -> Result<Vec<Airline>> {
        if !may_see(ctx, self.owner_id) {
            return Ok(Vec::new());
        }
        let api = ctx.data::<super::ApiContext>()?;
        Ok(api
            .reads_of_job(ctx, self.finished_at)
            .offer_carriers(self.id)
            .await
            .map_err(crate::error::ApiError::from)?
            .into_iter()
            .map(|code| Airline {
                name: domain::airline_name(&code).map(str::to_string),
                code,
            })
            .collect())
    }

    /// The best price over time: a point each time the cheapest offer got cheaper (to the
    /// second), the latest `points` of them.
    #[graphql(
        complexity = "crate::query_limits::list(crate::query_limits::bound(points), child_complexity)"
    )]
    async fn best_price_history(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 200)] points: i32,
    ) -> Result<Vec<PricePoint>> {
        if !(1..=2000).contains(&points) {
            return Err(crate::error::ApiError::bad_input(
                "points",
                format!("{points}; use 1 to 2000"),
            )
            .into());
        }
        if !may_see(ctx, self.owner_id) {
            return Ok(Vec::new());
        }
        let api = ctx.data::<super::ApiContext>()?;
        let currency = domain::Currency::parse(&self.spec.currency)
            .map(|c| c.code())
            .unwrap_or("EUR");
        Ok(api
            .reads_of_job(ctx, self.finished_at)
            .best_price_history(self.id, points as usize)
            .await
            .map_err(crate::error::ApiError::from)?
            .into_iter()
            .map(|(at, minor_units)| PricePoint {
                at,
                price: Money {
                    minor_units,
                    currency,
                },
            })
            .collect())
    }

    /// The account that started the search (its owner and admins see it).
    async fn owner(&self, ctx: &Context<'_>) -> Result<Option<super::User>> {
        let Some(id) = self.owner_id else {
            return Ok(None);
        };
        if !may_see(ctx, self.owner_id) {
            return Ok(None);
        }
        let loader = ctx.data::<DataLoader<UserLoader>>()?;
        Ok(loader.load_one(id).await?.map(super::User::from))
    }
}

impl From<JobRecord> for SearchJob {
    fn from(j: JobRecord) -> Self {
        let progress = j.progress();
        Self {
            id: j.id,
            label: j.label,
            status: j.status.into(),
            spec: SearchSpecView::from(&j.spec),
            total_tasks: count(j.total_tasks),
            completed_tasks: count(j.completed_tasks),
            failed_tasks: count(j.failed_tasks),
            found_flights: count(j.found_flights),
            cache_hits: count(j.cache_hits),
            provider_calls: count(j.provider_calls),
            percent: progress.percent(),
            best_price: j.best_price.map(Money::from),
            tasks_per_second: j.tasks_per_second,
            eta_seconds: j.eta_seconds.map(count),
            cancel_requested: j.cancel_requested,
            pause_requested: j.pause_requested,
            error: j.error,
            attempts: i32::try_from(j.attempts).unwrap_or(i32::MAX),
            created_at: j.created_at,
            updated_at: j.updated_at,
            started_at: j.started_at,
            finished_at: j.finished_at,
            last_checkpoint_at: j.last_checkpoint_at,
            error_sample: j
                .error_sample
                .into_iter()
                .map(|e| TaskError {
                    task_index: count(e.task_index),
                    provider: e.provider,
                    message: e.message,
                    at: e.at,
                })
                .collect(),
            best_offer_id: j.best_offer_id,
            owner_id: j.owner_id,
        }
    }
}

/// A progress event of a search.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct JobProgress {
    pub job_id: Uuid,
    pub status: GqlJobStatus,
    pub total_tasks: i64,
    pub completed_tasks: i64,
    pub failed_tasks: i64,
    pub found_flights: i64,
    pub percent: f64,
    pub best_price: Option<Money>,
    pub tasks_per_second: f64,
    pub eta_seconds: Option<i64>,
    pub cancel_requested: bool,
    pub pause_requested: bool,
    pub error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

#[ComplexObject]
impl JobProgress {
    /// The whole job, as of now.
    async fn job(&self, ctx: &Context<'_>) -> Result<Option<SearchJob>> {
        visible_job(ctx, self.job_id).await
    }
}

impl From<domain::JobProgress> for JobProgress {
    fn from(p: domain::JobProgress) -> Self {
        Self {
            job_id: p.job_id,
            status: p.status.into(),
            total_tasks: count(p.total_tasks),
            completed_tasks: count(p.completed_tasks),
            failed_tasks: count(p.failed_tasks),
            found_flights: count(p.found_flights),
            percent: p.percent(),
            best_price: p.best_price.map(Money::from),
            tasks_per_second: p.tasks_per_second,
            eta_seconds: p.eta_seconds.map(count),
            cancel_requested: p.cancel_requested,
            pause_requested: p.pause_requested,
            error: p.error,
            updated_at: p.updated_at,
        }
    }
}

/// A priced itinerary found by a search. Times carry the UTC offset of the airport they
/// happen at.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct FlightOffer {
    pub id: Uuid,
    pub job_id: Uuid,
    pub provider: String,
    pub origin: String,
    pub destination: String,
    pub departure_date: Date,
    pub return_date: Option<Date>,
    pub departure_at: DateTime<FixedOffset>,
    pub arrival_at: DateTime<FixedOffset>,
    pub return_departure_at: Option<DateTime<FixedOffset>>,
    pub return_arrival_at: Option<DateTime<FixedOffset>>,
    pub carrier: String,
    pub flight_numbers: Vec<String>,
    pub stops: i32,
    /// Outbound flight time, plus the return flight's for round trips.
    pub duration_minutes: i32,
    pub price: Money,
    pub cabin: GqlCabin,
    /// The flights, outbound then return; empty when the provider did not list them.
    pub segments: Vec<FlightSegment>,
    /// When the provider stops guaranteeing the price.
    pub expires_at: Option<DateTime<Utc>>,
    /// Where to buy the offer at the provider.
    pub deep_link: Option<String>,
    /// What the provider needs to book the offer.
    pub booking_token: Option<String>,
    /// The offer exactly as the provider sent it (http providers), for audit.
    pub raw_payload: Option<async_graphql::Json<serde_json::Value>>,
    /// When the search stored the offer.
    pub found_at: DateTime<Utc>,
    /// When the provider gave this price: `foundAt` for the search's own provider call,
    /// earlier when the answer came from the provider-answer cache ("price seen 7 min ago").
    pub fetched_at: DateTime<Utc>,
}

#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "SegmentDirection")]
pub enum GqlDirection {
    Outbound,
    Return,
}

/// One flight of an offer. Times carry the UTC offset of the airport they happen at.
#[derive(SimpleObject, Clone)]
pub struct FlightSegment {
    pub direction: GqlDirection,
    pub carrier: String,
    pub flight_number: String,
    pub origin: String,
    pub destination: String,
    pub departure_at: DateTime<FixedOffset>,
    pub arrival_at: DateTime<FixedOffset>,
}

impl FlightOffer {
    /// The value of `field` when it needs nothing but the offer itself.
    fn plain_field(&self, field: &Field) -> Option<Value> {
        let set = &field.selection_set.node;
        Some(match field.name.node.as_str() {
            "id" => scalar(&self.id),
            "jobId" => scalar(&self.job_id),
            "provider" => scalar(&self.provider),
            "origin" => scalar(&self.origin),
            "destination" => scalar(&self.destination),
            "departureDate" => scalar(&self.departure_date),
            "returnDate" => optional(&self.return_date),
            "departureAt" => scalar(&self.departure_at),
            "arrivalAt" => scalar(&self.arrival_at),
            "returnDepartureAt" => optional(&self.return_departure_at),
            "returnArrivalAt" => optional(&self.return_arrival_at),
            "carrier" => scalar(&self.carrier),
            "flightNumbers" => Value::List(self.flight_numbers.iter().map(scalar).collect()),
            "stops" => scalar(&self.stops),
            "durationMinutes" => scalar(&self.duration_minutes),
            "price" => plain_object(set, "Money", |f| self.price.plain_field(f))?,
            "cabin" => async_graphql::resolver_utils::enum_value(self.cabin),
            "segments" => Value::List(
                self.segments
                    .iter()
                    .map(|seg| plain_object(set, "FlightSegment", |f| seg.plain_field(f)))
                    .collect::<Option<_>>()?,
            ),
            "expiresAt" => optional(&self.expires_at),
            "deepLink" => optional(&self.deep_link),
            "bookingToken" => optional(&self.booking_token),
            "foundAt" => scalar(&self.found_at),
            "fetchedAt" => scalar(&self.fetched_at),
            _ => return None,
        })
    }
}

impl FlightSegment {
    fn plain_field(&self, field: &Field) -> Option<Value> {
        Some(match field.name.node.as_str() {
            "direction" => async_graphql::resolver_utils::enum_value(self.direction),
            "carrier" => scalar(&self.carrier),
            "flightNumber" => scalar(&self.flight_number),
            "origin" => scalar(&self.origin),
            "destination" => scalar(&self.destination),
            "departureAt" => scalar(&self.departure_at),
            "arrivalAt" => scalar(&self.arrival_at),
            _ => return None,
        })
    }
}

/// A `FlightOffer` as a page's node. async-graphql resolves every field of an object
/// through a boxed future of its own, some 550 on a page of 50 offers (BENCHMARKS.md,
/// issue 15): a selection of plain fields (no fragment, directive, argument or repeated
/// name) is answered here in one pass instead, anything else the usual way.
pub struct OfferNode(pub FlightOffer);

impl async_graphql::OutputType for OfferNode {
    fn type_name() -> Cow<'static, str> {
        <FlightOffer as async_graphql::OutputType>::type_name()
    }

    fn create_type_info(registry: &mut async_graphql::registry::Registry) -> String {
        <FlightOffer as async_graphql::OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &async_graphql::ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> async_graphql::ServerResult<Value> {
        match plain_object(&ctx.item.node, "FlightOffer", |f| self.0.plain_field(f)) {
            Some(value) => Ok(value),
            None => async_graphql::OutputType::resolve(&self.0, ctx, field).await,
        }
    }
}

fn scalar<T: async_graphql::ScalarType>(value: &T) -> Value {
    value.to_value()
}

fn optional<T: async_graphql::ScalarType>(value: &Option<T>) -> Value {
    value.as_ref().map_or(Value::Null, scalar)
}

/// An object of `type_name` whose selection `set` holds plain fields only, each answered by
/// `field`; `None` when any is not, so that the caller resolves it the usual way.
fn plain_object(
    set: &SelectionSet,
    type_name: &str,
    field: impl Fn(&Field) -> Option<Value>,
) -> Option<Value> {
    let mut object = async_graphql::indexmap::IndexMap::with_capacity(set.items.len());
    for item in &set.items {
        let Selection::Field(f) = &item.node else {
            return None;
        };
        let f = &f.node;
        if !f.directives.is_empty() || !f.arguments.is_empty() {
            return None;
        }
        let value = if f.name.node == "__typename" {
            Value::String(type_name.to_string())
        } else {
            field(f)?
        };
        if object
            .insert(f.response_key().node.clone(), value)
            .is_some()
        {
            return None;
        }
    }
    Some(Value::Object(object))
}

/// The optional columns a selection of `FlightOffer` fields needs.
pub(crate) fn offer_columns(offer: &async_graphql::Lookahead<'_>) -> store::OfferColumns {
    let any = |fields: &[&str]| fields.iter().any(|f| offer.field(f).exists());
    store::OfferColumns {
        flight_numbers: any(&["flightNumbers"]),
        segments: any(&["segments"]),
        raw_payload: any(&["rawPayload"]),
        times: any(&[
            "departureAt",
            "arrivalAt",
            "returnDepartureAt",
            "returnArrivalAt",
        ]),
        details: any(&[
            "provider",
            "deepLink",
            "bookingToken",
            "expiresAt",
            "foundAt",
            "fetchedAt",
        ]),
    }
}

#[ComplexObject]
impl FlightOffer {
    /// The search that found this offer.
    async fn job(&self, ctx: &Context<'_>) -> Result<Option<SearchJob>> {
        visible_job(ctx, self.job_id).await
    }
}

/// Whether the caller may see what `owner` owns. Nested fields check again, whatever path
/// led to them.
fn may_see(ctx: &Context<'_>, owner: Option<Uuid>) -> bool {
    crate::auth::Caller::of(ctx)
        .0
        .is_some_and(|viewer| viewer.may_see(owner))
}

/// A search by id, when the caller may see it.
async fn visible_job(ctx: &Context<'_>, id: Uuid) -> Result<Option<SearchJob>> {
    let loader = ctx.data::<DataLoader<JobLoader>>()?;
    Ok(loader
        .load_one(id)
        .await?
        .filter(|job| may_see(ctx, job.owner_id))
        .map(SearchJob::from))
}

pub(crate) fn local(at: DateTime<Utc>, airport: AirportCode) -> DateTime<FixedOffset> {
    match AirportDb::embedded().get(airport) {
        Some(a) => at.with_timezone(&a.tz).fixed_offset(),
        None => at.fixed_offset(),
    }
}

impl From<OfferRecord> for FlightOffer {
    fn from(r: OfferRecord) -> Self {
        let o = r.offer;
        Self {
            id: r.id,
            job_id: r.job_id,
            provider: o.provider,
            origin: o.origin.to_string(),
            destination: o.destination.to_string(),
            departure_date: Date(r.departure_date),
            return_date: r.return_date.map(Date),
            departure_at: local(o.departure_at, o.origin),
            arrival_at: local(o.arrival_at, o.destination),
            return_departure_at: o.return_departure_at.map(|t| local(t, o.destination)),
            return_arrival_at: o.return_arrival_at.map(|t| local(t, o.origin)),
            carrier: o.carrier,
            flight_numbers: o.flight_numbers,
            stops: i32::from(o.stops),
            duration_minutes: i32::try_from(o.duration_minutes).unwrap_or(i32::MAX),
            price: o.price.into(),
            cabin: o.cabin.into(),
            segments: o
                .segments
                .into_iter()
                .map(|seg| FlightSegment {
                    direction: match seg.direction {
                        domain::Direction::Outbound => GqlDirection::Outbound,
                        domain::Direction::Return => GqlDirection::Return,
                    },
                    carrier: seg.carrier,
                    flight_number: seg.flight_number,
                    origin: seg.origin.to_string(),
                    destination: seg.destination.to_string(),
                    departure_at: local(seg.departure_at, seg.origin),
                    arrival_at: local(seg.arrival_at, seg.destination),
                })
                .collect(),
            expires_at: o.expires_at,
            deep_link: o.deep_link,
            booking_token: o.booking_token,
            raw_payload: o.raw.map(async_graphql::Json),
            found_at: r.found_at,
            fetched_at: r.fetched_at,
        }
    }
}

/// A calendar date, `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

/// A calendar date in ISO 8601 form, e.g. `2027-03-01`.
#[async_graphql::Scalar(name = "Date")]
impl async_graphql::ScalarType for Date {
    fn parse(value: async_graphql::Value) -> async_graphql::InputValueResult<Self> {
        match &value {
            async_graphql::Value::String(s) => s.parse::<NaiveDate>().map(Date).map_err(|_| {
                async_graphql::InputValueError::custom(format!(
                    "`{s}` is not a date in the form YYYY-MM-DD"
                ))
            }),
            _ => Err(async_graphql::InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> async_graphql::Value {
        async_graphql::Value::String(self.0.to_string())
    }
}

/// A local time of day, `HH:MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalTime(pub u16);

/// A local time of day in 24-hour form, e.g. `06:00` or `21:30` (minutes after midnight
/// at the airport where it happens).
#[async_graphql::Scalar(name = "LocalTime")]
impl async_graphql::ScalarType for LocalTime {
    fn parse(value: async_graphql::Value) -> async_graphql::InputValueResult<Self> {
        match &value {
            async_graphql::Value::String(s) => LocalTime::from_text(s).ok_or_else(|| {
                async_graphql::InputValueError::custom(format!(
                    "\"{s}\" is not a time of day in the form HH:MM (00:00 to 23:59)"
                ))
            }),
            _ => Err(async_graphql::InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> async_graphql::Value {
        async_graphql::Value::String(format!("{:02}:{:02}", self.0 / 60, self.0 % 60))
    }
}

impl LocalTime {
    fn from_text(s: &str) -> Option<LocalTime> {
        let (h, m) = s.split_once(':')?;
        if h.len() != 2 || m.len() != 2 {
            return None;
        }
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        (h < 24 && m < 60).then_some(LocalTime(h * 60 + m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::types::{DocumentOperations, ExecutableDocument};

    #[test]
    fn local_times_are_hours_and_minutes() {
        assert_eq!(LocalTime::from_text("06:00"), Some(LocalTime(360)));
        assert_eq!(LocalTime::from_text("23:59"), Some(LocalTime(1439)));
        for bad in ["24:00", "6:00", "06:60", "0600", "06:00:00", "", "ab:cd"] {
            assert_eq!(LocalTime::from_text(bad), None, "{bad}");
        }
    }

    fn offer() -> FlightOffer {
        let at = DateTime::parse_from_rfc3339("2027-03-01T10:00:00+00:00").expect("time");
        FlightOffer {
            id: Uuid::nil(),
            job_id: Uuid::nil(),
            provider: "simulated".into(),
            origin: "LHR".into(),
            destination: "BKK".into(),
            departure_date: Date(at.date_naive()),
            return_date: None,
            departure_at: at,
            arrival_at: at,
            return_departure_at: None,
            return_arrival_at: None,
            carrier: "BA".into(),
            flight_numbers: vec!["BA9".into()],
            stops: 0,
            duration_minutes: 700,
            price: Money {
                minor_units: 12345,
                currency: "EUR",
            },
            cabin: GqlCabin::Economy,
            segments: Vec::new(),
            expires_at: None,
            deep_link: None,
            booking_token: None,
            raw_payload: None,
            found_at: at.with_timezone(&Utc),
            fetched_at: at.with_timezone(&Utc),
        }
    }

    /// The node's selection set in `query { flights { nodes { … } } }`.
    fn node_selection(document: &ExecutableDocument) -> &SelectionSet {
        let DocumentOperations::Single(op) = &document.operations else {
            panic!("one operation");
        };
        let mut set = &op.node.selection_set.node;
        for _ in 0..2 {
            let Selection::Field(field) = &set.items[0].node else {
                panic!("a field");
            };
            set = &field.node.selection_set.node;
        }
        set
    }

    fn answer(selection: &str) -> Option<serde_json::Value> {
        let query = format!("query {{ flights {{ nodes {{ {selection} }} }} }}");
        let document = async_graphql::parser::parse_query(query).expect("parses");
        let offer = offer();
        plain_object(node_selection(&document), "FlightOffer", |f| {
            offer.plain_field(f)
        })
        .map(|value| value.into_json().expect("json"))
    }

    #[test]
    fn plain_fields_are_answered_in_one_pass_and_anything_else_is_left_alone() {
        assert_eq!(
            answer("__typename id cost: price { amount currency } returnDate cabin stops"),
            Some(serde_json::json!({
                "__typename": "FlightOffer",
                "id": Uuid::nil().to_string(),
                "cost": { "amount": "123.45", "currency": "EUR" },
                "returnDate": null,
                "cabin": "ECONOMY",
                "stops": 0,
            }))
        );
        for usual in [
            "id rawPayload",
            "id job { id }",
            "id ... on FlightOffer { carrier }",
            "...F",
            "id id",
            "id price { amount amount }",
            "id carrier @deprecated",
            "price { ... on Money { amount } }",
        ] {
            assert_eq!(answer(usual), None, "{usual}");
        }
    }
}
