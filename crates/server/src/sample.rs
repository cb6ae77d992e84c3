//! A synthetic flight catalogue in the CSV import format, for benchmarks and tests: valid
//! rows on a few real routes, unique per flight number and departure.

/// `rows` flights from 2031-01-01 on; with `bad_every > 0`, every `bad_every`-th row names
/// the unknown airport `QQQ` and is rejected on import.
pub fn flights_csv(rows: usize, bad_every: usize) -> Vec<u8> {
    const ROUTES: [(&str, &str, &str, &str, u64); 4] = [
        ("LHR", "JFK", "10:00", "13:05", 0),
        ("JFK", "LHR", "18:30", "06:40", 1),
        ("FRA", "SIN", "21:55", "16:35", 1),
        ("CDG", "BKK", "13:20", "06:00", 1),
    ];
    let base = chrono::NaiveDate::from_ymd_opt(2031, 1, 1).unwrap_or_default();
    let mut out = Vec::with_capacity(rows * 96);
    out.extend_from_slice(domain::inventory::CSV_COLUMNS.join(",").as_bytes());
    out.push(b'\n');
    for i in 0..rows {
        let (from, to, dep, arr, next_day) = ROUTES[i % ROUTES.len()];
        let day = base + chrono::Days::new((i / 9_000) as u64);
        let arrival_day = day + chrono::Days::new(next_day);
        let to = if bad_every > 0 && i % bad_every == bad_every - 1 {
            "QQQ"
        } else {
            to
        };
        let line = format!(
            "ZZ{},ZZ,{from},{to},{day}T{dep},{arrival_day}T{arr},ECONOMY,{}.{:02},EUR,180,{}\n",
            i % 9_000 + 1,
            100 + i % 900,
            i % 100,
            i % 181
        );
        out.extend_from_slice(line.as_bytes());
    }
    out
}
