//! The flight catalogue and its CSV imports, from outside: edge cases of the format, files
//! refused whole, a million rows in flat memory, an import killed mid-way, the watched
//! folder across restarts, the `import` command, and searches finding imported flights.

use std::path::Path;
use std::time::Duration;

use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support;
use crate::support::{BIN, Backend, Session, TestApp, TestDb, base_env};

const HEADER: &str = "flight_number,airline,origin,destination,departure,arrival,cabin,price,currency,seats_total,seats_available";

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    let conn = db.connect().await;
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            sql.to_string(),
        ))
        .await
        .expect("query")
        .expect("row");
    let n: i64 = row.try_get_by_index(0).expect("count");
    let _ = conn.close().await;
    n
}

async fn upload_and_wait(admin: &Session, name: &str, content: Vec<u8>) -> Value {
    let (status, body) = admin.upload(name, content).await;
    assert!(status.is_success(), "{body}");
    let id = body["data"]["importFlights"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no import: {body}"))
        .to_string();
    admin.wait_import(&id, Duration::from_secs(120)).await
}

/// A file with everything a spreadsheet or a hand can put in a CSV.
fn edge_case_file() -> Vec<u8> {
    let mut f: Vec<u8> = Vec::new();
    f.extend_from_slice("\u{feff}".as_bytes());
    f.extend_from_slice(format!("{HEADER}\r\n").as_bytes()); // 1
    f.extend_from_slice(
        b"BA117,BA,LHR,JFK,2030-03-01T08:30,2030-03-01T11:25,ECONOMY,499.90,GBP,200,180\r\n",
    ); // 2
    f.extend_from_slice(b"\"BA118\",\"BA\",\"LHR\",\"JFK\",\"2030-03-02 08:30\",\"2030-03-02 11:25\",\"ECONOMY\",\"459.00\",\"GBP\",\"200\",\"\"\r\n"); // 3
    f.extend_from_slice(b"\r\n"); // 4: blank
    f.extend_from_slice(
        b"BA119,BA,LHR,JFK,2030-03-03T08:30,2030-03-03T11:25,ECONOMY,\"1,050.00\",GBP,200,200\r\n",
    ); // 5
    f.extend_from_slice(b"BA120,BA,LHR,JFK,2030-03-04T08:30,2030-03-04T11:25,\"ECONOMY\nCLASS\",100.00,GBP,200,200\r\n"); // 6-7
    f.extend_from_slice(
        b"BA121,BA,LHR,XXX,2030-03-05T08:30,2030-03-05T11:25,ECONOMY,100.00,GBP,200,200\r\n",
    ); // 8
    f.extend_from_slice(
        b"BA122,BA,LHR,JFK,2030-13-01T08:30,2030-03-06T11:25,ECONOMY,100.00,GBP,200,200\r\n",
    ); // 9
    f.extend_from_slice(
        b"BA123,BA,LHR,JFK,2030-03-07T08:30,2030-03-07T11:25,ECONOMY,-5.00,GBP,200,200\r\n",
    ); // 10
    f.extend_from_slice(
        b"BA117,BA,LHR,JFK,2030-03-01T08:30,2030-03-01T11:25,ECONOMY,399.90,GBP,200,170\r\n",
    ); // 11
    f.extend_from_slice(
        b"BA117,BA,LHR,JFK,2030-03-01T08:30,2030-03-01T11:25,ECONOMY,399.90,GBP,200,170\r\n",
    ); // 12
    f.extend_from_slice(
        b"BA124,BA,LHR,JFK,2030-03-08T08:30,2030-03-08T11:25,ECON\xffMY,100.00,GBP,200,200\r\n",
    ); // 13
    f.extend_from_slice(b"\n"); // 14: blank
    f.extend_from_slice(
        b"LH400,LH,FRA,JFK,2030-03-01T10:05,2030-03-01T12:50,BUSINESS,2450.00,EUR,40,12",
    ); // 15, no newline
    f
}

async fn csv_edge_cases_are_read_right(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn(&db).await;
    let admin = app.admin().await;
    let import = upload_and_wait(&admin, "edge cases.csv", edge_case_file()).await;
    assert_eq!(import["status"], "SUCCEEDED", "{import}");
    assert_eq!(import["filename"], "edge cases.csv");
    assert_eq!(int(&import["rowsRead"]), 11, "{import}");
    assert_eq!(int(&import["rowsImported"]), 5, "{import}");
    assert_eq!(int(&import["rowsRejected"]), 6, "{import}");
    assert_eq!(import["percent"], json!(100.0));
    let rejections: Vec<(i64, String)> = import["rejections"]
        .as_array()
        .expect("list")
        .iter()
        .map(|r| {
            (
                int(&r["line"]),
                r["reason"].as_str().expect("reason").to_string(),
            )
        })
        .collect();
    let expected = [
        (5, "price: `1,050.00` is not an amount"),
        (6, "cabin: `ECONOMY\nCLASS` is not"),
        (8, "destination: unknown airport `XXX`"),
        (9, "departure: `2030-13-01T08:30` is not a time"),
        (10, "price: -5.00 is negative"),
        (13, "field 7 is not UTF-8 text"),
    ];
    assert_eq!(rejections.len(), expected.len(), "{rejections:?}");
    for ((line, reason), (want_line, want)) in rejections.iter().zip(expected) {
        assert_eq!(*line, want_line, "{rejections:?}");
        assert!(reason.contains(want), "line {line}: `{want}` in `{reason}`");
    }
    // Duplicates: one row per flight, the last one read wins.
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM inventory_flights").await,
        3
    );
    let ba117 = admin
        .data(
            "{ inventory(filter: {flightNumber: \"ba117\"}) { nodes { price { minorUnits currency } seatsAvailable departureAt arrivalAt departureDate durationMinutes } } }",
            json!({}),
        )
        .await;
    let node = &ba117["inventory"]["nodes"][0];
    assert_eq!(node["price"]["minorUnits"], 39990, "{ba117}");
    assert_eq!(node["seatsAvailable"], 170);
    // Local times at each airport: London in winter is UTC, New York UTC-5.
    assert_eq!(node["departureAt"], "2030-03-01T08:30:00+00:00");
    assert_eq!(node["arrivalAt"], "2030-03-01T11:25:00-05:00");
    assert_eq!(node["durationMinutes"], 475);
    assert_eq!(
        admin
            .data(
                "{ inventory(filter: {origin: \"FRA\"}) { nodes { flightNumber cabin } } }",
                json!({})
            )
            .await["inventory"]["nodes"],
        json!([{ "flightNumber": "LH400", "cabin": "BUSINESS" }])
    );
}

async fn files_that_are_not_flight_csv_are_refused_whole(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn(&db).await;
    let admin = app.admin().await;
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01".to_vec();
    png.extend_from_slice(&[0u8; 64]);
    for (name, content, expect) in [
        ("empty.csv", Vec::new(), "the file is empty"),
        ("image.csv", png, "binary data"),
        (
            "wrong-header.csv",
            b"flight,carrier,from,to\nBA117,BA,LHR,JFK\n".to_vec(),
            "missing flight_number, airline, origin, destination",
        ),
        (
            "typo.csv",
            format!("{}\n", HEADER.replace("currency", "curency")).into_bytes(),
            "unknown curency",
        ),
        (
            "data.json",
            br#"{"flights": [1, 2, 3]}"#.to_vec(),
            "must be the header",
        ),
    ] {
        let import = upload_and_wait(&admin, name, content).await;
        assert_eq!(import["status"], "FAILED", "{name}: {import}");
        let error = import["error"].as_str().unwrap_or_default();
        assert!(error.contains(expect), "{name}: `{expect}` in `{error}`");
        assert_eq!(int(&import["rowsImported"]), 0, "{name}");
    }
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM inventory_flights").await,
        0
    );
    // The stored files are dropped once an import ends.
    assert_eq!(count(&db, "SELECT COUNT(*) FROM import_chunks").await, 0);

    let header_only =
        upload_and_wait(&admin, "header.csv", format!("{HEADER}\n").into_bytes()).await;
    assert_eq!(header_only["status"], "SUCCEEDED", "{header_only}");
    assert_eq!(int(&header_only["rowsRead"]), 0);

    // Rows, none of them importable: that did not succeed.
    let all_bad = format!(
        "{HEADER}\nBA121,BA,LHR,XXX,2030-03-05T08:30,2030-03-05T11:25,ECONOMY,100.00,GBP,200,200\n\
         BA123,BA,LHR,JFK,2030-03-07T08:30,2030-03-07T11:25,ECONOMY,-5.00,GBP,200,200\n"
    );
    let import = upload_and_wait(&admin, "all bad.csv", all_bad.into_bytes()).await;
    assert_eq!(import["status"], "FAILED", "{import}");
    assert_eq!(int(&import["rowsRejected"]), 2, "{import}");
    assert_eq!(
        import["error"],
        "no row could be imported: all 2 rows were rejected (the rejected rows say why)"
    );
}

use fast_flights::sample::flights_csv as generated_csv;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_million_rows_import_with_flat_memory() {
    const ROWS: usize = 1_000_000;
    let db = TestDb::new(Backend::Postgres).await;
    let app = TestApp::spawn(&db).await;
    let admin = app.admin().await;
    let file = generated_csv(ROWS, 0);
    let file_bytes = file.len() as u64;
    let before = app.rss_bytes();

    // Sample the server's memory while it stores and imports the file.
    let pid = app.pid();
    let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        tokio::spawn(async move {
            let mut samples = Vec::new();
            while sampling.load(std::sync::atomic::Ordering::SeqCst) {
                samples.push(support::rss_of(pid));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            samples
        })
    };
    let (status, body) = admin.upload("million.csv", file).await;
    assert!(status.is_success(), "{body}");
    let id = body["data"]["importFlights"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let mut quarter = None;
    let mut three_quarters = None;
    let import = loop {
        let now = admin
            .data("query($id: UUID!) { import(id: $id) { status percent rowsImported rowsRejected error } }", json!({ "id": id }))
            .await["import"]
            .clone();
        let percent = now["percent"].as_f64().unwrap_or(0.0);
        if percent >= 25.0 && quarter.is_none() {
            quarter = Some(app.rss_bytes());
        }
        if percent >= 75.0 && three_quarters.is_none() {
            three_quarters = Some(app.rss_bytes());
        }
        if now["status"] == "SUCCEEDED" || now["status"] == "FAILED" {
            break now;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    sampling.store(false, std::sync::atomic::Ordering::SeqCst);
    let samples = sampler.await.expect("sampler");
    assert_eq!(import["status"], "SUCCEEDED", "{import}");
    assert_eq!(int(&import["rowsImported"]), ROWS as i64);
    assert_eq!(int(&import["rowsRejected"]), 0);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM inventory_flights").await,
        ROWS as i64
    );
    let peak = samples.iter().copied().max().unwrap_or(0);
    let mib = |b: u64| b as f64 / 1_048_576.0;
    eprintln!(
        "1M rows ({:.0} MiB): RSS before {:.0} MiB, at 25% {:.0} MiB, at 75% {:.0} MiB, peak {:.0} MiB",
        mib(file_bytes),
        mib(before),
        mib(quarter.unwrap_or(0)),
        mib(three_quarters.unwrap_or(0)),
        mib(peak)
    );
    // Flat: the server never holds the file (75 MiB, and several times that parsed), and
    // the second half of the import costs no more memory than the first.
    assert!(
        peak < before + 64 * 1_048_576,
        "peak RSS {:.0} MiB for a {:.0} MiB file (before: {:.0} MiB)",
        mib(peak),
        mib(file_bytes),
        mib(before)
    );
    let (Some(q), Some(t)) = (quarter, three_quarters) else {
        panic!("the import was not seen at 25% and 75%: {quarter:?} {three_quarters:?}");
    };
    assert!(
        t < q + 32 * 1_048_576,
        "memory grew from {:.0} MiB at 25% to {:.0} MiB at 75%",
        mib(q),
        mib(t)
    );
}

async fn import_progress_streams_to_the_end(backend: Backend) {
    const ROWS: usize = 100_000;
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn_with(&db, &[("NO_WORKER", "true")]).await;
    let admin = app.admin().await;
    let (status, body) = admin
        .upload("progress.csv", generated_csv(ROWS, 10_000))
        .await;
    assert!(status.is_success(), "{body}");
    let id = body["data"]["importFlights"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    // Subscribed while it waits for a worker; then a worker process takes it.
    let mut ws = support::WsClient::connect(&admin).await;
    ws.init().await;
    ws.subscribe(
        "1",
        "subscription($id: UUID!) { importProgress(id: $id) { status percent rowsRead rowsImported rowsRejected } }",
        json!({ "id": id }),
    )
    .await;
    let first = ws.next_json().await.expect("first");
    assert_eq!(
        first["payload"]["data"]["importProgress"]["status"], "QUEUED",
        "{first}"
    );
    let worker = support::TestWorker::spawn(&db, &[]).await;
    let mut events = vec![first["payload"]["data"]["importProgress"].clone()];
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(120), ws.next_json())
            .await
            .expect("an event in time")
            .expect("socket open");
        match msg["type"].as_str() {
            Some("next") => events.push(msg["payload"]["data"]["importProgress"].clone()),
            Some("complete") => break,
            _ => panic!("unexpected {msg}"),
        }
    }
    worker.kill().await;
    let last = events.last().expect("events");
    assert_eq!(last["status"], "SUCCEEDED", "{events:?}");
    assert_eq!(int(&last["rowsImported"]), ROWS as i64 - 10);
    assert_eq!(int(&last["rowsRejected"]), 10);
    assert!(events.len() >= 3, "queued, progress, end: {events:?}");
    let percents: Vec<f64> = events
        .iter()
        .map(|e| e["percent"].as_f64().expect("percent"))
        .collect();
    assert!(percents.windows(2).all(|w| w[0] <= w[1]), "{percents:?}");
}

async fn a_killed_import_resumes_without_duplicates(backend: Backend) {
    const ROWS: usize = 200_000;
    let db = TestDb::new(backend).await;
    let env = [("LEASE_TTL_MS", "1000")];
    let app = TestApp::spawn_with(&db, &env).await;
    let admin = app.admin().await;
    let (status, body) = admin.upload("resume.csv", generated_csv(ROWS, 1_000)).await;
    assert!(status.is_success(), "{body}");
    let id = body["data"]["importFlights"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let progress = |s: &Session| {
        let s = s.clone();
        let id = id.clone();
        async move {
            s.data(
                "query($id: UUID!) { import(id: $id) { status percent rowsRead } }",
                json!({ "id": id }),
            )
            .await["import"]
                .clone()
        }
    };
    // Kill the process somewhere in the middle of the import.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let killed_at = loop {
        let now = progress(&admin).await;
        let percent = now["percent"].as_f64().unwrap_or(0.0);
        assert_ne!(
            now["status"], "SUCCEEDED",
            "finished before the kill: make the file larger"
        );
        if percent >= 20.0 {
            break now;
        }
        assert!(tokio::time::Instant::now() < deadline, "no progress: {now}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    app.kill().await;
    let rows_at_kill = int(&killed_at["rowsRead"]);
    assert!(rows_at_kill < ROWS as i64, "{killed_at}");

    // The killed process's 1 s lease lets the resume start at once; the resuming process
    // holds its own for 5 s, so a renewal held up on this busy 2-core box (SQLite has one
    // writer) cannot make it claim the import a third time.
    let again = TestApp::spawn_with(&db, &[("LEASE_TTL_MS", "5000")]).await;
    let admin = again.admin().await;
    let import = admin.wait_import(&id, Duration::from_secs(180)).await;
    assert_eq!(import["status"], "SUCCEEDED", "{import}");
    // Claimed once by each process, and once more for each run given back after a passing
    // database error (which the log names).
    let log = again.log();
    let interrupted = log
        .matches("import interrupted; it will be tried again")
        .count() as i64;
    assert_eq!(
        int(&import["attempts"]),
        2 + interrupted,
        "resumed once: attempts {}\n{log}",
        import["attempts"]
    );
    let bad = (ROWS / 1_000) as i64;
    assert_eq!(int(&import["rowsRead"]), ROWS as i64, "{import}");
    assert_eq!(int(&import["rowsRejected"]), bad);
    assert_eq!(int(&import["rowsImported"]), ROWS as i64 - bad);
    let lines: Vec<i64> = import["rejections"]
        .as_array()
        .expect("list")
        .iter()
        .map(|r| int(&r["line"]))
        .collect();
    let expected: Vec<i64> = (1..=bad).map(|k| k * 1_000 + 1).collect();
    assert_eq!(lines, expected, "each bad row kept once, by its line");
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM inventory_flights").await,
        ROWS as i64 - bad
    );
}

/// Waits for `path` to exist.
async fn appears(path: &Path, limit: Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    while !path.exists() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} did not appear; the folder holds {:?}",
            path.display(),
            std::fs::read_dir(path.parent().expect("parent")).map(|d| d
                .filter_map(|e| e.ok())
                .map(|e| e.file_name())
                .collect::<Vec<_>>())
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Drops a file into the folder at once (written beside it, then renamed).
fn drop_file(dir: &Path, name: &str, content: &[u8]) {
    let tmp = dir.join(format!(".{name}.part"));
    std::fs::write(&tmp, content).expect("write");
    std::fs::rename(&tmp, dir.join(name)).expect("rename");
}

fn report(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("report")).expect("report JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watched_folder_imports_a_file_once_even_across_restarts() {
    let db = TestDb::new(Backend::Postgres).await;
    let folder = tempfile::tempdir().expect("dir");
    let dir = folder.path().to_path_buf();
    let dir_text = dir.display().to_string();
    let env = [
        ("WATCH_DIR", dir_text.as_str()),
        ("WATCH_INTERVAL_MS", "200"),
        ("LEASE_TTL_MS", "1000"),
    ];
    let sample = std::fs::read("../../data/sample-inventory.csv").expect("sample");

    // A file is imported and moved, with its report.
    let app = TestApp::spawn_with(&db, &env).await;
    drop_file(&dir, "flights.csv", &sample);
    appears(
        &dir.join("processed/flights.csv.report.json"),
        Duration::from_secs(60),
    )
    .await;
    assert!(dir.join("processed/flights.csv").exists());
    assert!(!dir.join("flights.csv").exists());
    let first = report(&dir.join("processed/flights.csv.report.json"));
    assert_eq!(first["status"], "SUCCEEDED", "{first}");
    assert_eq!(first["rows_imported"], 8);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM imports").await, 1);

    // The same content again, under another name and after a restart: not imported twice.
    app.kill().await;
    drop_file(&dir, "flights-copy.csv", &sample);
    let app = TestApp::spawn_with(&db, &env).await;
    appears(
        &dir.join("processed/flights-copy.csv.report.json"),
        Duration::from_secs(60),
    )
    .await;
    let copy = report(&dir.join("processed/flights-copy.csv.report.json"));
    assert_eq!(copy["import_id"], first["import_id"], "{copy}");
    assert_eq!(copy["imported_from"], "flights.csv");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM imports").await, 1);

    // Killed after the import was queued, before the file was moved: the next process
    // finishes that import and moves the file; the file is still imported once.
    let big = generated_csv(60_000, 0);
    drop_file(&dir, "big.csv", &big);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while count(
        &db,
        "SELECT COUNT(*) FROM imports WHERE dedupe_key IS NOT NULL",
    )
    .await
        < 2
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "big.csv was not taken"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.kill().await;
    assert!(
        dir.join("big.csv").exists(),
        "moved before the import ended"
    );
    let app = TestApp::spawn_with(&db, &env).await;
    appears(
        &dir.join("processed/big.csv.report.json"),
        Duration::from_secs(120),
    )
    .await;
    let big_report = report(&dir.join("processed/big.csv.report.json"));
    assert_eq!(big_report["status"], "SUCCEEDED", "{big_report}");
    assert_eq!(big_report["rows_imported"], 60_000);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM imports WHERE status <> 'UPLOADING'"
        )
        .await,
        2,
        "big.csv imported once"
    );

    // A file refused whole goes to failed/, its report saying why.
    drop_file(&dir, "notes.csv", b"just some notes\n");
    appears(
        &dir.join("failed/notes.csv.report.json"),
        Duration::from_secs(60),
    )
    .await;
    let failed = report(&dir.join("failed/notes.csv.report.json"));
    assert_eq!(failed["status"], "FAILED");
    assert!(
        failed["error"]
            .as_str()
            .unwrap_or_default()
            .contains("header"),
        "{failed}"
    );
    // Other files are left alone, also once the watcher has taken a CSV dropped after them.
    std::fs::write(dir.join("readme.txt"), "not a CSV").expect("write");
    drop_file(&dir, "after.csv", b"more notes, no header\n");
    appears(
        &dir.join("failed/after.csv.report.json"),
        Duration::from_secs(60),
    )
    .await;
    assert!(dir.join("readme.txt").exists());
    drop(app);
}

/// The longest run of `quoted` that is also in `source`, in characters, case aside (header
/// names are quoted lower-cased).
fn longest_quote(quoted: &str, source: &str) -> usize {
    let q: Vec<char> = quoted.to_lowercase().chars().collect();
    let s: Vec<char> = source.to_lowercase().chars().collect();
    let mut best = 0;
    let mut row = vec![0usize; s.len() + 1];
    for a in &q {
        let mut diagonal = 0;
        for (j, b) in s.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if a == b { diagonal + 1 } else { 0 };
            best = best.max(row[j + 1]);
            diagonal = above;
        }
    }
    best
}

/// A symbolic link dropped in the folder, to a CSV or to a folder outside it, is moved to
/// failed/ as a link with a report, never read; reports quote at most 60 characters of a
/// file that is not CSV (a one-line SVG) or of a runaway field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watched_folder_follows_no_links_and_quotes_little() {
    let db = TestDb::new(Backend::Postgres).await;
    let folder = tempfile::tempdir().expect("dir");
    let outside = tempfile::tempdir().expect("dir");
    let dir = folder.path().to_path_buf();
    let dir_text = dir.display().to_string();
    let app = TestApp::spawn_with(
        &db,
        &[
            ("WATCH_DIR", dir_text.as_str()),
            ("WATCH_INTERVAL_MS", "200"),
        ],
    )
    .await;
    let admin = app.admin().await;

    let sample = std::fs::read("../../data/sample-inventory.csv").expect("sample");
    let target = outside.path().join("flights.csv");
    std::fs::write(&target, &sample).expect("write");
    let modified = std::fs::metadata(&target)
        .expect("meta")
        .modified()
        .expect("mtime");
    std::os::unix::fs::symlink(&target, dir.join("linked.csv")).expect("link");
    std::os::unix::fs::symlink(outside.path(), dir.join("folder.csv")).expect("link");
    for name in ["linked.csv", "folder.csv"] {
        let report_path = dir.join(format!("failed/{name}.report.json"));
        appears(&report_path, Duration::from_secs(60)).await;
        let refused = report(&report_path);
        assert_eq!(refused["status"], "FAILED", "{refused}");
        assert!(
            refused["error"]
                .as_str()
                .is_some_and(|e| e.contains("symbolic links are not imported")),
            "{refused}"
        );
        let moved = std::fs::symlink_metadata(dir.join("failed").join(name)).expect("moved");
        assert!(moved.file_type().is_symlink(), "{name} moved as a link");
        assert!(!dir.join(name).exists(), "{name} left the folder");
    }
    assert_eq!(count(&db, "SELECT COUNT(*) FROM imports").await, 0);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM inventory_flights").await,
        0
    );
    assert_eq!(std::fs::read(&target).expect("target"), sample);
    assert_eq!(
        std::fs::metadata(&target)
            .expect("meta")
            .modified()
            .expect("mtime"),
        modified,
        "the target is untouched"
    );
    assert_eq!(
        std::fs::read_dir(outside.path()).expect("outside").count(),
        1,
        "nothing was put beside the target"
    );

    // A one-line SVG: its comma-separated pieces are taken for header names, one of them
    // thousands of characters long.
    let path: String = (0..400)
        .map(|i| format!("L{} {} ", i * 7 % 97, i * 13 % 89))
        .collect();
    let svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0,0,100,100"><path d="M0 0 {path}Z" fill="red"/></svg>"#
    );
    drop_file(&dir, "drawing.csv", svg.as_bytes());
    let report_path = dir.join("failed/drawing.csv.report.json");
    appears(&report_path, Duration::from_secs(60)).await;
    let drawing = report(&report_path);
    assert_eq!(drawing["status"], "FAILED", "{drawing}");
    let error = drawing["error"].as_str().expect("error");
    assert!(error.contains("header"), "{error}");
    assert!(longest_quote(error, &svg) <= 60, "quotes the SVG: {error}");
    let id = drawing["import_id"].as_str().expect("import id");
    let shown = admin.wait_import(id, Duration::from_secs(30)).await;
    assert_eq!(
        shown["error"].as_str(),
        Some(error),
        "the API shows the same"
    );

    // A runaway field in a row: the rejection quotes 60 characters of it.
    let runaway: String = (0..5000)
        .map(|i| char::from(b'A' + (i * 11 % 26) as u8))
        .collect();
    let rows = format!(
        "{HEADER}\nBA117,BA,{runaway},JFK,2031-03-01T08:30,2031-03-01T11:25,,499.90,GBP,200,\n\
         BA118,BA,LHR,JFK,2031-03-02T08:30,2031-03-02T11:25,,499.90,GBP,200,\n"
    );
    drop_file(&dir, "long.csv", rows.as_bytes());
    let report_path = dir.join("processed/long.csv.report.json");
    appears(&report_path, Duration::from_secs(60)).await;
    let long = report(&report_path);
    assert_eq!(long["rows_rejected"], 1, "{long}");
    assert_eq!(long["rows_imported"], 1, "{long}");
    let reason = long["rejections"][0]["reason"].as_str().expect("reason");
    assert!(
        reason.contains("origin") && reason.contains('…'),
        "{reason}"
    );
    assert!(
        longest_quote(reason, &runaway) <= 60,
        "quotes the field: {reason}"
    );
    drop(app);
}

async fn cli(args: &[&str], db: &TestDb) -> (bool, String, String) {
    let mut env = base_env();
    env.insert("DATABASE_URL", db.url.clone());
    let out = tokio::process::Command::new(BIN)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env)
        .output()
        .await
        .expect("run");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_import_command_imports_once_and_reports() {
    let db = TestDb::new(Backend::Sqlite).await;
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("edge.csv");
    std::fs::write(&file, edge_case_file()).expect("write");
    let path = file.display().to_string();

    let (ok, out, err) = cli(&["import", &path], &db).await;
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("SUCCEEDED — 11 rows read, 5 imported, 6 rejected"),
        "{out}"
    );
    assert!(
        out.contains("line 8: destination: unknown airport `XXX`"),
        "{out}"
    );
    let (ok, out, _) = cli(&["import", &path], &db).await;
    assert!(ok);
    assert!(
        out.contains("was imported before") && out.contains("--force"),
        "{out}"
    );
    let (ok, out, _) = cli(&["import", "--force", &path], &db).await;
    assert!(ok);
    assert!(out.contains("5 imported"), "{out}");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM imports").await, 2);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM inventory_flights").await,
        3
    );

    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "a,b,c\n1,2,3\n").expect("write");
    let (ok, out, _) = cli(&["import", &bad.display().to_string()], &db).await;
    assert!(!ok, "a refused file exits non-zero");
    assert!(
        out.contains("FAILED") && out.contains("missing flight_number"),
        "{out}"
    );
    let (ok, _, err) = cli(&["import", "/nonexistent/flights.csv"], &db).await;
    assert!(!ok);
    assert!(err.contains("/nonexistent/flights.csv"), "{err}");
}

/// data/sample-inventory.csv moved to start `days` from today, so searches can reach it.
fn sample_from_today(days: u64) -> (Vec<u8>, chrono::NaiveDate) {
    let text = std::fs::read_to_string("../../data/sample-inventory.csv").expect("sample");
    let first = chrono::NaiveDate::from_ymd_opt(2027, 3, 1).expect("date");
    let start = chrono::Utc::now().date_naive() + chrono::Days::new(days);
    let mut out = text.clone();
    for offset in 0..12u64 {
        let from = first + chrono::Days::new(offset);
        let to = start + chrono::Days::new(offset);
        out = out.replace(&from.to_string(), &format!("@{to}@"));
    }
    (out.replace('@', "").into_bytes(), start)
}

async fn the_catalogue_is_kept_through_the_api_and_found_by_searches(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn(&db).await;
    let admin = app.admin().await;
    let (sample, day1) = sample_from_today(60);
    let day = |n: u64| (day1 + chrono::Days::new(n)).to_string();
    let import = upload_and_wait(&admin, "sample.csv", sample).await;
    assert_eq!(int(&import["rowsImported"]), 8, "{import}");

    // Bad input names its field and writes nothing.
    let upsert = "mutation($i: InventoryFlightInput!) { upsertInventoryFlight(input: $i) { id flightNumber price { minorUnits currency } seatsAvailable } }";
    let good = json!({
        "flightNumber": "ba117", "airline": "BA", "origin": "LHR", "destination": "JFK",
        "departure": format!("{}T08:30", day(0)), "arrival": format!("{}T11:25", day(0)),
        "price": 45000, "currency": "GBP", "seatsTotal": 200, "seatsAvailable": 3
    });
    for (field, value, named) in [
        ("origin", json!("ZZZ"), "input.origin"),
        (
            "arrival",
            json!(format!("{}T01:00", day(0))),
            "input.arrival",
        ),
        ("price", json!(-1), "input.price"),
        ("currency", json!("XYZ"), "input.currency"),
        ("seatsAvailable", json!(201), "input.seatsAvailable"),
        ("flightNumber", json!("117"), "input.flightNumber"),
    ] {
        let mut input = good.clone();
        input[field] = value;
        let body = admin.gql(upsert, json!({ "i": input })).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], named, "{body}");
    }
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM inventory_flights").await,
        8
    );
    // The same flight number and departure replaces the imported flight.
    let replaced = admin.data(upsert, json!({ "i": good })).await;
    assert_eq!(replaced["upsertInventoryFlight"]["seatsAvailable"], 3);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM inventory_flights").await,
        8
    );

    // Paging walks the catalogue by departure.
    let mut after = Value::Null;
    let mut seen = Vec::new();
    loop {
        let page = admin
            .data(
                "query($a: String) { inventory(first: 3, after: $a) { pageInfo { hasNextPage endCursor } nodes { flightNumber departureAt } } }",
                json!({ "a": after }),
            )
            .await["inventory"]
            .clone();
        for n in page["nodes"].as_array().expect("nodes") {
            seen.push(n["departureAt"].as_str().expect("time").to_string());
        }
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen.len(), 8);
    let instants: Vec<_> = seen
        .iter()
        .map(|t| chrono::DateTime::parse_from_rfc3339(t).expect("time"))
        .collect();
    assert!(instants.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");

    // A search finds the catalogue's round trips: BA117 out, BA112 back 7 nights later.
    let job = app
        .start_search(json!({
            "origins": ["LON"], "destinations": ["NYC"],
            "departureFrom": day(0), "departureTo": day(1),
            "nights": { "min": 6, "max": 8 }, "currency": "GBP", "providers": ["inventory"],
        }))
        .await;
    let id = job["id"].as_str().expect("id");
    let events = app.follow_progress(id, Duration::from_secs(60)).await;
    assert_eq!(events.last().expect("events")["status"], "SUCCEEDED");
    let offers = app
        .data(
            "query($j: UUID!) { flights(jobId: $j) { nodes { provider flightNumbers price { minorUnits currency } segments { direction flightNumber } } } }",
            json!({ "j": id }),
        )
        .await["flights"]["nodes"]
        .clone();
    let offers = offers.as_array().expect("offers");
    assert_eq!(offers.len(), 2, "{offers:?}");
    // Cheapest first: 450.00 (day 0, replaced above) + 389.00, then 459.00 (day 1) + 389.00.
    assert_eq!(offers[0]["flightNumbers"], json!(["BA117", "BA112"]));
    assert_eq!(
        offers[0]["price"],
        json!({ "minorUnits": 83900, "currency": "GBP" })
    );
    assert_eq!(offers[1]["price"]["minorUnits"], 84800);
    assert_eq!(offers[0]["segments"][1]["direction"], "RETURN");

    // Seats and cabin count: 3 seats left is too few for 4 adults; the business flight is
    // found in BUSINESS only.
    let four = app
        .start_search(json!({
            "origins": ["LHR"], "destinations": ["JFK"],
            "departureFrom": day(0), "departureTo": day(0),
            "adults": 4, "currency": "GBP", "providers": ["inventory"],
        }))
        .await;
    app.follow_progress(four["id"].as_str().expect("id"), Duration::from_secs(60))
        .await;
    assert_eq!(
        app.job(four["id"].as_str().expect("id")).await["foundFlights"],
        0
    );
    let business = app
        .start_search(json!({
            "origins": ["FRA"], "destinations": ["JFK"],
            "departureFrom": day(0), "departureTo": day(0),
            "cabin": "BUSINESS", "currency": "EUR", "providers": ["inventory"],
        }))
        .await;
    let bid = business["id"].as_str().expect("id");
    app.follow_progress(bid, Duration::from_secs(60)).await;
    let job = app.job(bid).await;
    assert_eq!(job["foundFlights"], 1);
    assert_eq!(
        job["bestPrice"],
        json!({ "minorUnits": 245000, "currency": "EUR" })
    );

    // Deleting: the flight goes; a second delete is NOT_FOUND.
    let flight_id = replaced["upsertInventoryFlight"]["id"].clone();
    let deleted = admin
        .data(
            "mutation($id: UUID!) { deleteInventoryFlight(id: $id) }",
            json!({ "id": flight_id }),
        )
        .await;
    assert_eq!(deleted["deleteInventoryFlight"], true);
    let again = admin
        .gql(
            "mutation($id: UUID!) { deleteInventoryFlight(id: $id) }",
            json!({ "id": flight_id }),
        )
        .await;
    assert_eq!(again["errors"][0]["extensions"]["code"], "NOT_FOUND");
}

/// Line ends, quotes and shapes the edge-case file does not have.
async fn odd_csv_shapes_are_read_right(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn(&db).await;
    let admin = app.admin().await;
    let row = |n: u32, extra: &str| {
        format!(
            "BA{n},BA,LHR,JFK,2030-04-{:02}T08:30,2030-04-{:02}T11:25,ECONOMY,100.00,GBP,200,{extra}",
            n % 28 + 1,
            n % 28 + 1
        )
    };
    // Old Mac line ends: a lone CR.
    let cr_only = format!(
        "{HEADER}\r{}\r{}\r{}\r",
        row(1, ""),
        row(2, "-1"),
        row(3, "")
    );
    let import = upload_and_wait(&admin, "cr.csv", cr_only.into_bytes()).await;
    assert_eq!(import["status"], "SUCCEEDED", "{import}");
    assert_eq!(
        (int(&import["rowsImported"]), int(&import["rowsRejected"])),
        (2, 1)
    );
    assert_eq!(import["rejections"][0]["line"], 3, "{import}");

    // A BOM before a quoted header; a quote written twice inside a quoted field; a row with
    // too few fields; a row with too many.
    let quoted = format!(
        "\u{feff}\"flight_number\",\"airline\",origin,destination,departure,arrival,cabin,price,currency,seats_total,seats_available\n\
         {}\n\"BA5\"\"X\",BA,LHR,JFK,2030-04-05T08:30,2030-04-05T11:25,ECONOMY,100.00,GBP,200,\nBA6,BA,LHR\n{},extra\n",
        row(4, ""),
        row(7, "")
    );
    let import = upload_and_wait(&admin, "quoted.csv", quoted.into_bytes()).await;
    assert_eq!(import["status"], "SUCCEEDED", "{import}");
    assert_eq!(int(&import["rowsImported"]), 1, "{import}");
    let reasons: Vec<(i64, String)> = import["rejections"]
        .as_array()
        .expect("list")
        .iter()
        .map(|r| {
            (
                int(&r["line"]),
                r["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert_eq!(reasons[0].0, 3);
    assert!(
        reasons[0].1.contains("BA5\"X"),
        "the doubled quote is one quote: {reasons:?}"
    );
    assert!(
        reasons[1]
            .1
            .contains("has 3 fields where the header has 11"),
        "{reasons:?}"
    );
    assert!(reasons[2].1.contains("has 12 fields"), "{reasons:?}");

    // A header and nothing else, behind a BOM; a file of only a BOM.
    let only_header = format!("\u{feff}{HEADER}\r\n");
    let import = upload_and_wait(&admin, "header.csv", only_header.into_bytes()).await;
    assert_eq!(import["status"], "SUCCEEDED", "{import}");
    let bom = upload_and_wait(&admin, "bom.csv", "\u{feff}".as_bytes().to_vec()).await;
    assert_eq!(bom["status"], "FAILED");
    assert!(
        bom["error"].as_str().unwrap_or_default().contains("empty"),
        "{bom}"
    );
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(HEADER.encode_utf16().flat_map(|u| u.to_le_bytes()))
        .collect();
    let import = upload_and_wait(&admin, "utf16.csv", utf16).await;
    assert!(
        import["error"]
            .as_str()
            .unwrap_or_default()
            .contains("UTF-16"),
        "{import}"
    );

    // A quote left open swallows the rest of the file: past 1 MiB it is refused whole.
    let mut open_quote = format!("{HEADER}\n{}\nBA9,BA,\"LHR,JFK\n", row(8, "")).into_bytes();
    while open_quote.len() < (1 << 20) + (1 << 21) {
        open_quote.extend_from_slice(row(10, "").as_bytes());
        open_quote.push(b'\n');
    }
    let import = upload_and_wait(&admin, "open-quote.csv", open_quote).await;
    assert_eq!(import["status"], "FAILED", "{import}");
    let error = import["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("line 3") && error.contains("quote left open"),
        "{error}"
    );
    // Short of that, it is one bad row and the rows before it count.
    let short = format!(
        "{HEADER}\n{}\nBA9,BA,\"LHR,JFK\n{}\n",
        row(11, ""),
        row(12, "")
    );
    let import = upload_and_wait(&admin, "short-quote.csv", short.into_bytes()).await;
    assert_eq!(import["status"], "SUCCEEDED", "{import}");
    assert_eq!(
        (int(&import["rowsImported"]), int(&import["rowsRejected"])),
        (1, 1)
    );
    assert_eq!(import["rejections"][0]["line"], 3);
}

/// The same flight twice, far enough apart to land in different batches: the later row wins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flight_repeated_in_a_later_batch_is_replaced() {
    let db = TestDb::new(Backend::Postgres).await;
    let app = TestApp::spawn(&db).await;
    let admin = app.admin().await;
    let mut file = generated_csv(12_000, 0);
    let repeat = "ZZ1,ZZ,LHR,JFK,2031-01-01T10:00,2031-01-01T13:05,ECONOMY,1.23,EUR,180,7\n";
    file.extend_from_slice(repeat.as_bytes());
    let import = upload_and_wait(&admin, "repeat.csv", file).await;
    assert_eq!(int(&import["rowsImported"]), 12_001, "{import}");
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM inventory_flights").await,
        12_000
    );
    assert_eq!(
        count(&db, "SELECT price_minor FROM inventory_flights WHERE flight_number = 'ZZ1' AND departure_date = '2031-01-01'").await,
        123
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_over_the_limit_is_refused() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn_with(&db, &[("MAX_UPLOAD_BYTES", "4096")]).await;
    let admin = app.admin().await;
    let (status, body) = admin.upload("big.csv", generated_csv(200, 0)).await;
    assert_eq!(status, reqwest::StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body.to_string().contains("MAX_UPLOAD_BYTES"), "{body}");
    let (status, body) = admin.upload("small.csv", generated_csv(10, 0)).await;
    assert!(status.is_success(), "{body}");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM imports").await, 1);
}

/// A row wrong in several ways is rejected once, with every problem and its own text.
async fn a_rejected_row_names_every_problem_and_keeps_its_text(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn(&db).await;
    let admin = app.admin().await;
    let bad_row = "B!,BA,LHR,XXX,2030-03-01T08:30,2030-03-01T11:25,CARGO,-1,ZZZ,ten,";
    let file = format!(
        "{HEADER}\n{bad_row}\nBA117,BA,LHR,JFK,2030-03-01T08:30,2030-03-01T11:25,ECONOMY,499.90,GBP,200,180\n"
    );
    let import = upload_and_wait(&admin, "several problems.csv", file.into_bytes()).await;
    assert_eq!(import["status"], "SUCCEEDED", "{import}");
    assert_eq!(int(&import["rowsRejected"]), 1, "{import}");
    let rejection = &import["rejections"][0];
    assert_eq!(rejection["line"], 2);
    let reason = rejection["reason"].as_str().expect("reason");
    let problems: Vec<&str> = rejection["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| p.as_str().expect("text"))
        .collect();
    assert_eq!(problems, reason.lines().collect::<Vec<_>>());
    let fields: Vec<&str> = problems
        .iter()
        .map(|p| p.split(':').next().unwrap_or(""))
        .collect();
    assert_eq!(
        fields,
        [
            "flight_number",
            "destination",
            "cabin",
            "currency",
            "seats_total"
        ],
        "{reason}"
    );
    assert_eq!(rejection["content"], bad_row, "{import}");
}

on_both_backends!(
    a_rejected_row_names_every_problem_and_keeps_its_text,
    odd_csv_shapes_are_read_right,
    csv_edge_cases_are_read_right,
    import_progress_streams_to_the_end,
    files_that_are_not_flight_csv_are_refused_whole,
    a_killed_import_resumes_without_duplicates,
    the_catalogue_is_kept_through_the_api_and_found_by_searches,
);
