//! The admins' flight catalogue: unique on (flight number, departure), upserted one by one
//! from the API or in large batches by CSV imports.

use chrono::{DateTime, NaiveDate, Utc};
use domain::{AirportCode, Cabin, Currency, InventoryFlight, Money};
use sea_orm::sea_query::{Condition, Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::entity::inventory_flight::{self, Column};
use crate::records::Page;
use crate::{Result, Store, StoreError};

/// A stored catalogue flight.
#[derive(Debug, Clone, PartialEq)]
pub struct InventoryRecord {
    pub id: Uuid,
    pub flight: InventoryFlight,
    /// The import that last wrote it, if any.
    pub import_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<inventory_flight::Model> for InventoryRecord {
    type Error = StoreError;

    fn try_from(m: inventory_flight::Model) -> Result<Self> {
        let corrupt =
            |what: String| StoreError::Corrupt(format!("inventory flight {}: {what}", m.id));
        let code = |raw: &str| AirportCode::parse(raw).map_err(|e| corrupt(e.to_string()));
        let currency = Currency::parse(&m.currency).map_err(|e| corrupt(e.to_string()))?;
        Ok(Self {
            id: m.id,
            flight: InventoryFlight {
                flight_number: m.flight_number.clone(),
                airline: m.airline.clone(),
                origin: code(&m.origin)?,
                destination: code(&m.destination)?,
                departure_at: m.departure_at,
                arrival_at: m.arrival_at,
                departure_date: m.departure_date,
                cabin: Cabin::parse(&m.cabin)
                    .ok_or_else(|| corrupt(format!("cabin {}", m.cabin)))?,
                price: Money::new(m.price_minor, currency).map_err(|e| corrupt(e.to_string()))?,
                seats_total: u32::try_from(m.seats_total).map_err(|e| corrupt(e.to_string()))?,
                seats_available: u32::try_from(m.seats_available)
                    .map_err(|e| corrupt(e.to_string()))?,
            },
            import_id: m.import_id,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

/// Which catalogue flights to list; every set field must match.
#[derive(Debug, Clone, Default)]
pub struct InventoryFilter {
    pub origin: Option<AirportCode>,
    pub destination: Option<AirportCode>,
    pub airline: Option<String>,
    pub flight_number: Option<String>,
    /// Departure dates, local to the origin, both included.
    pub departure_from: Option<NaiveDate>,
    pub departure_to: Option<NaiveDate>,
}

/// Where a page of the catalogue continues: after this departure and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InventoryAfter {
    pub departure_at: DateTime<Utc>,
    pub id: Uuid,
}

fn active_model(
    f: &InventoryFlight,
    import_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> inventory_flight::ActiveModel {
    inventory_flight::ActiveModel {
        id: Set(Uuid::now_v7()),
        flight_number: Set(f.flight_number.clone()),
        airline: Set(f.airline.clone()),
        origin: Set(f.origin.as_str().to_string()),
        destination: Set(f.destination.as_str().to_string()),
        departure_at: Set(f.departure_at),
        arrival_at: Set(f.arrival_at),
        departure_date: Set(f.departure_date),
        cabin: Set(f.cabin.as_str().to_string()),
        price_minor: Set(f.price.minor_units),
        currency: Set(f.price.currency.code().to_string()),
        seats_total: Set(i32::try_from(f.seats_total).unwrap_or(i32::MAX)),
        seats_available: Set(i32::try_from(f.seats_available).unwrap_or(i32::MAX)),
        import_id: Set(import_id),
        created_at: Set(now),
        updated_at: Set(now),
        seats_booked: Set(0),
    }
}

/// The seats left of a flight saved again: as given, but never the seats confirmed
/// bookings hold (`seats_total - seats_booked` at most).
const SEATS_LEFT_ON_UPDATE: &str = "CASE WHEN excluded.seats_total - inventory_flights.seats_booked < 0 THEN 0 \
     WHEN excluded.seats_available > excluded.seats_total - inventory_flights.seats_booked \
     THEN excluded.seats_total - inventory_flights.seats_booked ELSE excluded.seats_available END";

/// Inserts flights, or updates the stored flight with the same number and departure
/// (keeping its id). `flights` must not repeat a key: PostgreSQL refuses to update one row
/// twice in a statement.
pub(crate) async fn upsert_batch<C: ConnectionTrait>(
    conn: &C,
    flights: &[InventoryFlight],
    import_id: Option<Uuid>,
) -> Result<()> {
    if flights.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    inventory_flight::Entity::insert_many(flights.iter().map(|f| active_model(f, import_id, now)))
        .on_conflict(
            OnConflict::columns([Column::FlightNumber, Column::DepartureAt])
                .update_columns([
                    Column::Airline,
                    Column::Origin,
                    Column::Destination,
                    Column::ArrivalAt,
                    Column::DepartureDate,
                    Column::Cabin,
                    Column::PriceMinor,
                    Column::Currency,
                    Column::SeatsTotal,
                    Column::ImportId,
                    Column::UpdatedAt,
                ])
                .value(Column::SeatsAvailable, Expr::cust(SEATS_LEFT_ON_UPDATE))
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// [`upsert_batch`] on PostgreSQL by `COPY`: the rows go as one text stream into a
/// temporary table, then into the catalogue with one `INSERT … SELECT … ON CONFLICT`.
/// Many times faster than a multi-row insert of the same rows.
pub(crate) async fn upsert_batch_by_copy(
    conn: &mut sqlx::PgConnection,
    flights: &[InventoryFlight],
    import_id: Option<Uuid>,
) -> Result<()> {
    use std::fmt::Write;
    if flights.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "CREATE TEMP TABLE IF NOT EXISTS inventory_stage \
         (LIKE inventory_flights INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
    )
    .execute(&mut *conn)
    .await?;
    let now = Utc::now().to_rfc3339();
    let import = import_id.map_or_else(|| "\\N".to_string(), |id| id.to_string());
    // Every value was checked to be letters, digits, dates or numbers: nothing to escape.
    let mut text = String::with_capacity(flights.len() * 200);
    for f in flights {
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{import}\t{now}\t{now}",
            Uuid::now_v7(),
            f.flight_number,
            f.airline,
            f.origin,
            f.destination,
            f.departure_at.to_rfc3339(),
            f.arrival_at.to_rfc3339(),
            f.departure_date,
            f.cabin.as_str(),
            f.price.minor_units,
            f.price.currency.code(),
            f.seats_total,
            f.seats_available,
        );
    }
    let mut copy = conn
        .copy_in_raw(
            "COPY inventory_stage (id, flight_number, airline, origin, destination, departure_at, \
             arrival_at, departure_date, cabin, price_minor, currency, seats_total, \
             seats_available, import_id, created_at, updated_at) FROM STDIN",
        )
        .await?;
    copy.send(text.into_bytes()).await?;
    copy.finish().await?;
    sqlx::query(
        "INSERT INTO inventory_flights SELECT * FROM inventory_stage \
         ON CONFLICT (flight_number, departure_at) DO UPDATE SET \
         airline = EXCLUDED.airline, origin = EXCLUDED.origin, \
         destination = EXCLUDED.destination, arrival_at = EXCLUDED.arrival_at, \
         departure_date = EXCLUDED.departure_date, cabin = EXCLUDED.cabin, \
         price_minor = EXCLUDED.price_minor, currency = EXCLUDED.currency, \
         seats_total = EXCLUDED.seats_total, seats_available = \
         CASE WHEN EXCLUDED.seats_total - inventory_flights.seats_booked < 0 THEN 0 \
         WHEN EXCLUDED.seats_available > EXCLUDED.seats_total - inventory_flights.seats_booked \
         THEN EXCLUDED.seats_total - inventory_flights.seats_booked \
         ELSE EXCLUDED.seats_available END, \
         import_id = EXCLUDED.import_id, updated_at = EXCLUDED.updated_at",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// Adds a flight, or replaces the one with the same flight number and departure.
    pub async fn upsert_inventory_flight(
        &self,
        flight: &InventoryFlight,
    ) -> Result<InventoryRecord> {
        upsert_batch(&self.db, std::slice::from_ref(flight), None).await?;
        inventory_flight::Entity::find()
            .filter(Column::FlightNumber.eq(flight.flight_number.as_str()))
            .filter(Column::DepartureAt.eq(flight.departure_at))
            .one(&self.db)
            .await?
            .ok_or_else(|| StoreError::Corrupt("an upserted flight cannot be read back".into()))
            .and_then(InventoryRecord::try_from)
    }

    /// Whether a flight was there to delete.
    pub async fn delete_inventory_flight(&self, id: Uuid) -> Result<bool> {
        let res = inventory_flight::Entity::delete_by_id(id)
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected > 0)
    }

    pub async fn inventory_flight(&self, id: Uuid) -> Result<Option<InventoryRecord>> {
        inventory_flight::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .map(InventoryRecord::try_from)
            .transpose()
    }

    /// The catalogue by departure time, then id.
    pub async fn inventory_page(
        &self,
        filter: &InventoryFilter,
        first: u64,
        after: Option<InventoryAfter>,
    ) -> Result<Page<InventoryRecord>> {
        let mut query = inventory_flight::Entity::find()
            .order_by_asc(Column::DepartureAt)
            .order_by_asc(Column::Id);
        if let Some(o) = filter.origin {
            query = query.filter(Column::Origin.eq(o.as_str()));
        }
        if let Some(d) = filter.destination {
            query = query.filter(Column::Destination.eq(d.as_str()));
        }
        if let Some(a) = &filter.airline {
            query = query.filter(Column::Airline.eq(a.as_str()));
        }
        if let Some(n) = &filter.flight_number {
            query = query.filter(Column::FlightNumber.eq(n.as_str()));
        }
        if let Some(from) = filter.departure_from {
            query = query.filter(Column::DepartureDate.gte(from));
        }
        if let Some(to) = filter.departure_to {
            query = query.filter(Column::DepartureDate.lte(to));
        }
        if let Some(after) = after {
            query = query.filter(
                Condition::any()
                    .add(Expr::col(Column::DepartureAt).gt(after.departure_at))
                    .add(
                        Condition::all()
                            .add(Expr::col(Column::DepartureAt).eq(after.departure_at))
                            .add(Column::Id.gt(after.id)),
                    ),
            );
        }
        let query = query.limit(first + 1);
        let mut rows = crate::replicas::read!(self, |db| query.clone().all(db).await)?;
        let has_next = rows.len() as u64 > first;
        rows.truncate(first as usize);
        Ok(Page {
            items: rows
                .into_iter()
                .map(InventoryRecord::try_from)
                .collect::<Result<_>>()?,
            has_next,
        })
    }

    /// Flights from `origin` to any of `destinations` departing on `from..=to` (local
    /// dates), in `cabin`, with at least `seats` seats left.
    pub async fn inventory_departures(
        &self,
        origin: AirportCode,
        destinations: &[AirportCode],
        from: NaiveDate,
        to: NaiveDate,
        cabin: Cabin,
        seats: u32,
    ) -> Result<Vec<InventoryRecord>> {
        inventory_flight::Entity::find()
            .filter(Column::Origin.eq(origin.as_str()))
            .filter(Column::Destination.is_in(destinations.iter().map(|d| d.as_str().to_string())))
            .filter(Column::DepartureDate.gte(from))
            .filter(Column::DepartureDate.lte(to))
            .filter(Column::Cabin.eq(cabin.as_str()))
            .filter(Column::SeatsAvailable.gte(i32::try_from(seats).unwrap_or(i32::MAX)))
            .order_by_asc(Column::DepartureAt)
            .limit(10_000)
            .all(&self.db)
            .await?
            .into_iter()
            .map(InventoryRecord::try_from)
            .collect()
    }

    pub async fn inventory_count(&self) -> Result<u64> {
        use sea_orm::PaginatorTrait;
        Ok(inventory_flight::Entity::find().count(&self.db).await?)
    }
}
