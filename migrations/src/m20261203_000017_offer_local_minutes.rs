use domain::{AirportCode, AirportDb};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::prelude::{DateTimeUtc, Uuid};
use sea_orm_migration::sea_orm::{DatabaseBackend, Statement, Value};

/// Each offer's local departure times of day (outbound at its origin, return at its
/// destination), so results can be filtered by time window in SQL: the stored times are
/// UTC, and the offset of each airport changes with summer time. Offers stored before
/// this migration get theirs here, from the embedded airports' time zones.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FlightOffers {
    Table,
    DepartureMinute,
    ReturnMinute,
}

/// Offers updated per statement (five parameters each).
const BATCH: usize = 1_000;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        for column in [FlightOffers::DepartureMinute, FlightOffers::ReturnMinute] {
            manager
                .alter_table(
                    Table::alter()
                        .table(FlightOffers::Table)
                        .add_column_if_not_exists(ColumnDef::new(column).small_integer().null())
                        .to_owned(),
                )
                .await?;
        }
        backfill(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [FlightOffers::DepartureMinute, FlightOffers::ReturnMinute] {
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

async fn backfill(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = manager.get_database_backend();
    let airports = AirportDb::embedded();
    let local = |code: &str, at: DateTimeUtc| {
        let code = AirportCode::parse(code).ok()?;
        airports
            .local_minute(code, at)
            .and_then(|m| <i16 as TryFrom<u16>>::try_from(m).ok())
    };
    let mut after = Uuid::nil();
    loop {
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                format!(
                    "SELECT id, origin, destination, departure_at, return_departure_at FROM \
                     flight_offers WHERE id > {} ORDER BY id LIMIT {BATCH}",
                    placeholder(backend, 1)
                ),
                [after.into()],
            ))
            .await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = last.try_get("", "id")?;
        let mut minutes = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: Uuid = row.try_get("", "id")?;
            let origin: String = row.try_get("", "origin")?;
            let destination: String = row.try_get("", "destination")?;
            let out: DateTimeUtc = row.try_get("", "departure_at")?;
            let back: Option<DateTimeUtc> = row.try_get("", "return_departure_at")?;
            minutes.push((
                id,
                local(&origin, out),
                back.and_then(|at| local(&destination, at)),
            ));
        }
        // Parameters in the order they appear in the statement (SQLite's `?` are by place).
        let mut values: Vec<Value> = Vec::with_capacity(minutes.len() * 5);
        let next = |values: &mut Vec<Value>, value: Value| {
            values.push(value);
            placeholder(backend, values.len())
        };
        let mut departure = String::from("CASE id");
        for (id, out, _) in &minutes {
            let when = next(&mut values, (*id).into());
            let then = next(&mut values, (*out).into());
            departure.push_str(&format!(" WHEN {when} THEN {then}"));
        }
        let mut ret = String::from("CASE id");
        for (id, _, back) in &minutes {
            let when = next(&mut values, (*id).into());
            let then = next(&mut values, (*back).into());
            ret.push_str(&format!(" WHEN {when} THEN {then}"));
        }
        let ids: Vec<String> = minutes
            .iter()
            .map(|(id, _, _)| next(&mut values, (*id).into()))
            .collect();
        // The CASE values are typed as the column, so that PostgreSQL takes the
        // parameters for smallints.
        let cast = if backend == DatabaseBackend::Postgres {
            "::smallint"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE flight_offers SET departure_minute = ({departure} END){cast}, \
             return_minute = ({ret} END){cast} WHERE id IN ({})",
            ids.join(", ")
        );
        db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
    }
}

fn placeholder(backend: DatabaseBackend, n: usize) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("${n}"),
        _ => "?".to_string(),
    }
}
