//! Bookings against the real binary: catalogue seats never overbooked by concurrent
//! bookings through two API processes; idempotency keys; provider bookings run by a
//! worker, confirmed once even when the worker is killed mid-call; PRICE_CHANGED; bad
//! input named; and the outbox they write, read through `events`.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

use crate::providers::{ExampleProvider, providers_file};
use crate::support::{Backend, Session, TestApp, TestDb, TestWorker, WsClient, days_from_now};

const BOOK: &str = "mutation($i: BookFlightInput!) { bookFlight(input: $i) {
    id status seats provider providerReference error errorCode idempotencyKey
    price { minorUnits currency } newPrice { minorUnits currency }
    passengers { givenName familyName bornOn email } offer { id price { minorUnits } } } }";

const BOOKING: &str = "query($id: UUID!) { booking(id: $id) {
    id status providerReference error errorCode newPrice { minorUnits currency } confirmedAt cancelledAt } }";

async fn scalar(db: &TestDb, sql: &str) -> i64 {
    let conn = db.connect().await;
    let backend = match db.backend {
        Backend::Postgres => DbBackend::Postgres,
        Backend::Sqlite => DbBackend::Sqlite,
    };
    let row = conn
        .query_one_raw(Statement::from_string(backend, sql.to_string()))
        .await
        .expect("query")
        .expect("a row");
    row.try_get_by_index::<i64>(0).expect("an integer")
}

fn passenger(given: &str, family: &str) -> Value {
    json!({ "givenName": given, "familyName": family })
}

fn book_input(offer: &str, key: &str, passengers: Value) -> Value {
    json!({ "i": { "offerId": offer, "idempotencyKey": key, "passengers": passengers } })
}

/// Runs a search to its end and gives its offers' ids, cheapest first.
async fn search_offers(session: &Session, input: Value) -> (String, Vec<String>) {
    let job = session.start_search(input).await;
    let id = job["id"].as_str().expect("id").to_string();
    let events = session.follow_progress(&id, Duration::from_secs(90)).await;
    assert_eq!(
        events.last().expect("events")["status"],
        "SUCCEEDED",
        "{events:?}"
    );
    let nodes = session
        .data(
            "query($j: UUID!) { flights(jobId: $j, first: 100) { nodes { id } } }",
            json!({ "j": id }),
        )
        .await["flights"]["nodes"]
        .clone();
    let offers = nodes
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["id"].as_str().expect("id").to_string())
        .collect();
    (id, offers)
}

/// Reads a booking until it leaves PENDING.
async fn settled(session: &Session, id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let b = session.data(BOOKING, json!({ "id": id })).await["booking"].clone();
        if b["status"] != "PENDING" {
            return b;
        }
        assert!(tokio::time::Instant::now() < deadline, "still pending: {b}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Checks events against docs/events.schema.json with Python's `jsonschema` (the reference
/// implementation), as an integrator would.
async fn assert_match_the_schema(events: &Value) {
    let schema =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/events.schema.json");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("events.json");
    std::fs::write(&file, events.to_string()).expect("write events");
    let check = r#"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
events = json.load(open(sys.argv[2]))
assert events, "no events"
for e in events:
    v.validate(e)
"#;
    let out = tokio::process::Command::new("python3")
        .args(["-c", check])
        .arg(&schema)
        .arg(&file)
        .output()
        .await
        .expect("python3 with jsonschema (pip install jsonschema)");
    assert!(
        out.status.success(),
        "events do not match docs/events.schema.json: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code: {body}"))
}

/// 10 seats, 40 one-seat bookings at once by 4 accounts through `apis` API processes:
/// exactly 10 CONFIRMED, 30 SOLD_OUT, 0 seats left, 10 `booking.confirmed` events.
async fn never_overbooks(backend: Backend, apis: usize) {
    let db = TestDb::new(backend).await;
    let mut servers = vec![TestApp::spawn(&db).await];
    for _ in 1..apis {
        servers.push(TestApp::spawn_with(&db, &[("NO_WORKER", "true")]).await);
    }
    let admin = servers[0].admin().await;
    let day = days_from_now(12);
    let flight = admin
        .data(
            "mutation($i: InventoryFlightInput!) { upsertInventoryFlight(input: $i) { id seatsAvailable } }",
            json!({ "i": {
                "flightNumber": "BA117", "airline": "BA", "origin": "LHR", "destination": "JFK",
                "departure": format!("{day}T08:30"), "arrival": format!("{day}T11:25"),
                "price": 45000, "currency": "GBP", "seatsTotal": 10, "seatsAvailable": 10
            } }),
        )
        .await["upsertInventoryFlight"]["id"]
        .as_str()
        .expect("flight id")
        .to_string();

    // Each account finds the flight through its own search, and has a session on every API.
    let mut travellers = Vec::new();
    for a in 0..4 {
        let email = format!("traveller{a}@example.com");
        let sessions: Vec<Session> = {
            let mut s = Vec::new();
            for server in &servers {
                s.push(server.sign_up_or_in(&email).await);
            }
            s
        };
        let (_, offers) = search_offers(
            &sessions[0],
            json!({
                "origins": ["LHR"], "destinations": ["JFK"], "departureFrom": day, "departureTo": day,
                "currency": "GBP", "providers": ["inventory"],
            }),
        )
        .await;
        assert_eq!(offers.len(), 1, "{offers:?}");
        travellers.push((sessions, offers[0].clone()));
    }

    let mut attempts = Vec::new();
    for (a, (sessions, offer)) in travellers.iter().enumerate() {
        for b in 0..10 {
            let session = sessions[(a + b) % sessions.len()].clone();
            let offer = offer.clone();
            attempts.push(tokio::spawn(async move {
                session
                    .gql(
                        BOOK,
                        book_input(
                            &offer,
                            &format!("trip-{a}-{b}"),
                            json!([passenger(&format!("P{b}"), &format!("Account{a}"))]),
                        ),
                    )
                    .await
            }));
        }
    }
    let (mut confirmed, mut sold_out) = (Vec::new(), 0);
    for attempt in attempts {
        let body = attempt.await.expect("request task");
        if body["data"]["bookFlight"].is_object() {
            assert_eq!(body["data"]["bookFlight"]["status"], "CONFIRMED", "{body}");
            confirmed.push(body["data"]["bookFlight"].clone());
        } else {
            assert_eq!(code(&body), "SOLD_OUT", "{body}");
            assert!(
                body["errors"][0]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("seats")),
                "{body}"
            );
            sold_out += 1;
        }
    }
    assert_eq!((confirmed.len(), sold_out), (10, 30));
    // The catalogue holds this one flight.
    let seats = "SELECT CAST(SUM(seats_available) AS BIGINT) FROM inventory_flights";
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM inventory_flights").await,
        1
    );
    assert_eq!(scalar(&db, seats).await, 0);
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM bookings").await, 10);
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM events WHERE type = 'booking.confirmed'"
        )
        .await,
        10
    );
    // A refused booking stored nothing and published nothing.
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM events WHERE type = 'booking.created'"
        )
        .await,
        10
    );
    assert!(confirmed.iter().all(|b| {
        b["providerReference"]
            .as_str()
            .is_some_and(|r| r.starts_with("FF-"))
    }));

    // Cancelling gives the seat back once; cancelling again is a CONFLICT.
    let first = &confirmed[0];
    let family = first["passengers"][0]["familyName"].as_str().expect("name");
    let a: usize = family
        .trim_start_matches("Account")
        .parse()
        .expect("account");
    let session = &travellers[a].0[0];
    let cancel = "mutation($id: UUID!) { cancelBooking(id: $id) { id status cancelledAt } }";
    let cancelled = session.data(cancel, json!({ "id": first["id"] })).await;
    assert_eq!(cancelled["cancelBooking"]["status"], "CANCELLED");
    assert_eq!(scalar(&db, seats).await, 1);
    let again = session.gql(cancel, json!({ "id": first["id"] })).await;
    assert_eq!(code(&again), "CONFLICT", "{again}");
    assert!(
        again["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("cancelled already")),
        "{again}"
    );
    assert_eq!(scalar(&db, seats).await, 1);
    // Somebody else's booking is not theirs to cancel, nor to see.
    let other = &travellers[(a + 1) % 4].0[0];
    let foreign = other.gql(cancel, json!({ "id": first["id"] })).await;
    assert_eq!(code(&foreign), "NOT_FOUND", "{foreign}");
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM events WHERE type = 'booking.cancelled'"
        )
        .await,
        1
    );
    // The seat given back can be booked again.
    let rebook = session
        .data(
            BOOK,
            book_input(
                &travellers[a].1,
                "trip-again",
                json!([passenger("Re", "Booked")]),
            ),
        )
        .await;
    assert_eq!(rebook["bookFlight"]["status"], "CONFIRMED");
    assert_eq!(scalar(&db, seats).await, 0);
    // Saving the flight again (an admin's edit, an import) cannot offer the booked seats
    // again; a smaller total leaves none, and a cancellation then gives back none either.
    let upsert = "mutation($i: InventoryFlightInput!) { upsertInventoryFlight(input: $i) { seatsTotal seatsAvailable } }";
    let resave = |total: i64| {
        json!({ "i": {
            "flightNumber": "BA117", "airline": "BA", "origin": "LHR", "destination": "JFK",
            "departure": format!("{day}T08:30"), "arrival": format!("{day}T11:25"),
            "price": 45000, "currency": "GBP", "seatsTotal": total, "seatsAvailable": total
        } })
    };
    assert_eq!(
        admin.data(upsert, resave(10)).await["upsertInventoryFlight"],
        json!({ "seatsTotal": 10, "seatsAvailable": 0 })
    );
    assert_eq!(
        admin.data(upsert, resave(12)).await["upsertInventoryFlight"],
        json!({ "seatsTotal": 12, "seatsAvailable": 2 })
    );
    assert_eq!(
        admin.data(upsert, resave(8)).await["upsertInventoryFlight"],
        json!({ "seatsTotal": 8, "seatsAvailable": 0 })
    );
    let cancelled = session
        .data(cancel, json!({ "id": rebook["bookFlight"]["id"] }))
        .await;
    assert_eq!(cancelled["cancelBooking"]["status"], "CANCELLED");
    assert_eq!(scalar(&db, seats).await, 0);
    assert_eq!(
        admin.data(upsert, resave(10)).await["upsertInventoryFlight"],
        json!({ "seatsTotal": 10, "seatsAvailable": 1 })
    );
    let rebook = session
        .data(
            BOOK,
            book_input(
                &travellers[a].1,
                "trip-third",
                json!([passenger("Re", "Booked")]),
            ),
        )
        .await;
    assert_eq!(rebook["bookFlight"]["status"], "CONFIRMED");
    assert_eq!(scalar(&db, seats).await, 0);

    // The analytics consumer counts today's bookings on the route: 12 confirmed (two
    // cancelled), and the four searches with their best price.
    let today = chrono::Utc::now().date_naive().to_string();
    let stats = "query($d: Date!) { bookingStats(from: $d, to: $d) { day origin destination currency
        bookings seats revenue { minorUnits } cancellations refunded { minorUnits } searches bestPrice { minorUnits } } }";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let figures = loop {
        let rows = admin.data(stats, json!({ "d": today })).await["bookingStats"].clone();
        if rows[0]["bookings"] == 12 && rows[0]["cancellations"] == 2 && rows[0]["searches"] == 4 {
            break rows;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "bookingStats: {rows}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        figures,
        json!([{
            "day": today, "origin": "LHR", "destination": "JFK", "currency": "GBP",
            "bookings": 12, "seats": 12, "revenue": { "minorUnits": 12 * 45000 },
            "cancellations": 2, "refunded": { "minorUnits": 2 * 45000 },
            "searches": 4, "bestPrice": { "minorUnits": 45000 },
        }])
    );
    assert_eq!(
        code(&session.gql(stats, json!({ "d": today })).await),
        "FORBIDDEN"
    );
    let left = admin
        .data(
            "query { inventory { nodes { id seatsAvailable } } }",
            json!({}),
        )
        .await["inventory"]["nodes"]
        .clone();
    assert_eq!(left, json!([{ "id": flight, "seatsAvailable": 0 }]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_apis_never_overbook() {
    never_overbooks(Backend::Postgres, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_one_api_never_overbooks() {
    never_overbooks(Backend::Sqlite, 1).await;
}

/// A provider booking (simulated): PENDING at once, CONFIRMED by the worker; the same key
/// answers the same booking, another input under it is a CONFLICT; bad input named; the
/// account's events, and only its own.
async fn provider_bookings(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn(&db).await;
    let (job, offers) = search_offers(
        &app,
        json!({
            "origins": ["LHR"], "destinations": ["BKK"],
            "departureFrom": days_from_now(40), "departureTo": days_from_now(40), "adults": 2,
        }),
    )
    .await;
    let offer = offers[0].clone();
    let mut live = WsClient::connect(&app).await;
    live.init().await;
    live.subscribe(
        "n",
        "subscription { notifications { kind bookingId title message } }",
        json!({}),
    )
    .await;
    // The subscription is up once a round trip has gone through the socket.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let two = json!([
        { "givenName": "Ada", "familyName": "Lovelace", "bornOn": "1990-12-10", "email": "ADA@example.com" },
        passenger("Charles", "Babbage"),
    ]);
    let booked = app.data(BOOK, book_input(&offer, "k1", two.clone())).await["bookFlight"].clone();
    assert_eq!(booked["status"], "PENDING", "{booked}");
    assert_eq!(booked["seats"], 2);
    assert_eq!(booked["passengers"][0]["email"], "ada@example.com");
    assert_eq!(booked["offer"]["id"], json!(offer));
    let id = booked["id"].as_str().expect("id").to_string();
    let done = settled(&app, &id).await;
    assert_eq!(done["status"], "CONFIRMED", "{done}");
    assert!(
        done["providerReference"]
            .as_str()
            .is_some_and(|r| r.starts_with("SIM-")),
        "{done}"
    );
    // The confirmation is pushed over the socket.
    let pushed = loop {
        let msg = tokio::time::timeout(Duration::from_secs(30), live.next_json())
            .await
            .expect("a notification")
            .expect("socket open");
        let note = msg["payload"]["data"]["notifications"].clone();
        if note["kind"] == "BOOKING_CONFIRMED" {
            break note;
        }
    };
    assert_eq!(pushed["bookingId"], json!(id));
    assert_eq!(pushed["title"], "Booking confirmed: LHR → BKK");
    assert!(
        pushed["message"]
            .as_str()
            .is_some_and(|m| m.contains("2 seats")),
        "{pushed}"
    );

    // The same key and input: the same booking. Another input under it: CONFLICT.
    let again = app.data(BOOK, book_input(&offer, "k1", two.clone())).await;
    assert_eq!(again["bookFlight"]["id"], json!(id));
    assert_eq!(again["bookFlight"]["status"], "CONFIRMED");
    let changed = app
        .gql(
            BOOK,
            book_input(
                &offer,
                "k1",
                json!([passenger("Ada", "L"), passenger("C", "B")]),
            ),
        )
        .await;
    assert_eq!(code(&changed), "CONFLICT", "{changed}");
    assert!(
        changed["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("idempotency key")),
        "{changed}"
    );

    // Bad input names the field and stores nothing.
    let before = scalar(&db, "SELECT COUNT(*) FROM bookings").await;
    for (passengers, field) in [
        (json!([]), "passengers"),
        (json!([passenger("Ada", "Lovelace")]), "passengers"),
        (
            json!([passenger(" ", "Lovelace"), passenger("C", "B")]),
            "passengers[0].givenName",
        ),
        (
            json!([passenger("Ada", "Lovelace"), { "givenName": "C", "familyName": "B", "bornOn": days_from_now(3) }]),
            "passengers[1].bornOn",
        ),
        (
            json!([passenger("Ada", "Lovelace"), { "givenName": "C", "familyName": "B", "email": "nope" }]),
            "passengers[1].email",
        ),
    ] {
        let body = app.gql(BOOK, book_input(&offer, "bad", passengers)).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    let empty_key = app.gql(BOOK, book_input(&offer, "  ", two.clone())).await;
    assert_eq!(
        empty_key["errors"][0]["extensions"]["field"],
        "idempotencyKey"
    );
    let mut absurd = book_input(&offer, "k4", two.clone());
    absurd["i"]["expectedPriceMinor"] = json!(1);
    let absurd = app.gql(BOOK, absurd).await;
    assert_eq!(
        absurd["errors"][0]["extensions"]["field"], "expectedPriceMinor",
        "{absurd}"
    );
    let invisible = app
        .gql(
            BOOK,
            book_input(
                &offer,
                "k5",
                json!([passenger("\u{202e}\u{200b}", "L"), passenger("C", "B")]),
            ),
        )
        .await;
    assert_eq!(
        invisible["errors"][0]["extensions"]["field"], "passengers[0].givenName",
        "{invisible}"
    );
    let unknown = app
        .gql(
            BOOK,
            book_input("00000000-0000-0000-0000-000000000000", "k2", two.clone()),
        )
        .await;
    assert_eq!(code(&unknown), "NOT_FOUND", "{unknown}");
    let stranger = app.sign_up_or_in("stranger@example.com").await;
    let foreign = stranger
        .gql(BOOK, book_input(&offer, "k3", two.clone()))
        .await;
    assert_eq!(code(&foreign), "NOT_FOUND", "{foreign}");
    let peek = stranger.gql(BOOKING, json!({ "id": id })).await;
    assert_eq!(code(&peek), "NOT_FOUND", "{peek}");
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM bookings").await, before);

    // A PENDING booking cannot be cancelled yet; a confirmed one can, once.
    let cancel = "mutation($id: UUID!) { cancelBooking(id: $id) { status } }";
    assert_eq!(
        app.data(cancel, json!({ "id": id })).await["cancelBooking"]["status"],
        "CANCELLED"
    );
    assert_eq!(
        code(&app.gql(cancel, json!({ "id": id })).await),
        "CONFLICT"
    );

    // The account's events: its search ended, its booking was created, confirmed and
    // cancelled, in that order; the stranger sees none; a type filter keeps only those.
    let events = "query($t: [String!], $a: String) { events(first: 50, types: $t, after: $a) {
        pageInfo { hasNextPage endCursor } nodes { id sequence type subjectId accountId payload createdAt } } }";
    let mine = app.data(events, json!({})).await["events"]["nodes"].clone();
    let kinds: Vec<(&str, &str)> = mine
        .as_array()
        .expect("nodes")
        .iter()
        .map(|e| {
            (
                e["type"].as_str().expect("type"),
                e["subjectId"].as_str().expect("subject"),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("search.succeeded", job.as_str()),
            ("booking.created", id.as_str()),
            ("booking.confirmed", id.as_str()),
            ("booking.cancelled", id.as_str()),
        ]
    );
    let sequences: Vec<i64> = mine
        .as_array()
        .expect("nodes")
        .iter()
        .map(|e| e["sequence"].as_i64().expect("sequence"))
        .collect();
    assert!(sequences.windows(2).all(|w| w[0] < w[1]), "{sequences:?}");
    let confirmed = &mine[2]["payload"];
    assert_eq!(confirmed["v"], 1);
    assert_eq!(confirmed["bookingId"], json!(id));
    assert_eq!(confirmed["status"], "CONFIRMED");
    assert_eq!(confirmed["seats"], 2);
    assert_eq!(
        stranger.data(events, json!({})).await["events"]["nodes"],
        json!([])
    );
    let only = app
        .data(events, json!({ "t": ["booking.cancelled"] }))
        .await["events"]["nodes"]
        .clone();
    assert_eq!(only.as_array().map(Vec::len), Some(1));
    // Paging after an event's cursor goes on from there.
    let after = app
        .data(events, json!({ "a": sequences[1].to_string() }))
        .await["events"]["nodes"]
        .clone();
    assert_eq!(after.as_array().map(Vec::len), Some(2));
    let bad_type = app.gql(events, json!({ "t": ["booking.exploded"] })).await;
    assert_eq!(bad_type["errors"][0]["extensions"]["field"], "types");
    // The inbox keeps what happened (the notifications consumer writes it, a moment later).
    let inbox = "query { inbox(first: 10) { nodes { id kind subjectId title message readAt } } unreadNotifications }";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let kept = loop {
        let data = app.data(inbox, json!({})).await;
        if data["inbox"]["nodes"].as_array().map(Vec::len) == Some(3) {
            break data;
        }
        assert!(tokio::time::Instant::now() < deadline, "inbox: {data}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let kinds: Vec<&str> = kept["inbox"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(
        kinds,
        ["BOOKING_CANCELLED", "BOOKING_CONFIRMED", "SEARCH_SUCCEEDED"]
    );
    assert_eq!(kept["unreadNotifications"], 3);
    // Each notification is the event it comes from.
    assert_eq!(kept["inbox"]["nodes"][1]["id"], mine[2]["id"]);
    let first_id = kept["inbox"]["nodes"][0]["id"].clone();
    let marked = app
        .data(
            "mutation($ids: [UUID!]) { markRead(ids: $ids) }",
            json!({ "ids": [first_id] }),
        )
        .await;
    assert_eq!(marked["markRead"], 1);
    assert_eq!(app.data(inbox, json!({})).await["unreadNotifications"], 2);
    assert_eq!(
        stranger.data("mutation { markRead }", json!({})).await["markRead"],
        0
    );
    assert_eq!(
        app.data("mutation { markRead }", json!({})).await["markRead"],
        2
    );
    assert_eq!(
        stranger.data(inbox, json!({})).await["inbox"]["nodes"],
        json!([])
    );
    // Each consumer's lag is on /metrics.
    let metrics = reqwest::get(app.url("/metrics"))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics text");
    for consumer in ["notifications", "analytics"] {
        assert!(
            metrics.contains(&format!(
                "fast_flights_consumer_lag_events{{consumer=\"{consumer}\"}}"
            )),
            "{metrics}"
        );
    }
    assert!(metrics.contains("fast_flights_consumer_oldest_undelivered_seconds"));

    let admin = app.admin().await;
    let all = admin.data(events, json!({})).await["events"]["nodes"].clone();
    assert_eq!(all.as_array().map(Vec::len), Some(4));
    assert_match_the_schema(&all).await;
    // A payload off the schema is caught (the check can fail).
    let mut broken = all.clone();
    broken[1]["payload"]["seats"] = json!("two");
    let caught = tokio::spawn(async move { assert_match_the_schema(&broken).await }).await;
    assert!(caught.is_err(), "a broken payload passed the schema");
    // Bookings lists: own by default; everyone's for admins only.
    let list = "query($s: JobScope = MINE) { bookings(scope: $s) { nodes { id status } } }";
    assert_eq!(
        app.data(list, json!({})).await["bookings"]["nodes"][0]["id"],
        json!(id)
    );
    assert_eq!(
        stranger.data(list, json!({})).await["bookings"]["nodes"],
        json!([])
    );
    assert_eq!(
        code(&stranger.gql(list, json!({ "s": "ALL" })).await),
        "FORBIDDEN"
    );
    assert_eq!(
        admin.data(list, json!({ "s": "ALL" })).await["bookings"]["nodes"][0]["id"],
        json!(id)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_provider_bookings() {
    provider_bookings(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_provider_bookings() {
    provider_bookings(Backend::Sqlite).await;
}

/// A simulated provider whose prices moved: the booking fails PRICE_CHANGED with the new
/// price; booking again without taking it is refused at once; taking it books.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn price_changed_needs_the_new_price_accepted() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn_with(&db, &[("SIMULATED_PRICE_CHANGE_RATE", "1")]).await;
    let (_, offers) = search_offers(
        &app,
        json!({
            "origins": ["LHR"], "destinations": ["JFK"],
            "departureFrom": days_from_now(30), "departureTo": days_from_now(30),
        }),
    )
    .await;
    let pax = json!([passenger("Ada", "Lovelace")]);
    let first = app
        .data(BOOK, book_input(&offers[0], "p1", pax.clone()))
        .await["bookFlight"]
        .clone();
    let old = first["price"]["minorUnits"].as_i64().expect("price");
    let failed = settled(&app, first["id"].as_str().expect("id")).await;
    assert_eq!(failed["status"], "FAILED", "{failed}");
    assert_eq!(failed["errorCode"], "PRICE_CHANGED");
    let new = failed["newPrice"]["minorUnits"]
        .as_i64()
        .expect("new price");
    assert_eq!(new, old * 107 / 100);
    assert!(
        failed["error"]
            .as_str()
            .is_some_and(|e| e.contains("book again")),
        "{failed}"
    );
    let refused = app
        .gql(BOOK, book_input(&offers[0], "p2", pax.clone()))
        .await;
    assert_eq!(code(&refused), "PRICE_CHANGED", "{refused}");
    assert_eq!(
        refused["errors"][0]["extensions"]["newPrice"]["minorUnits"],
        json!(new)
    );
    let mut accept = book_input(&offers[0], "p3", pax.clone());
    accept["i"]["expectedPriceMinor"] = json!(new);
    let second = app.data(BOOK, accept).await["bookFlight"].clone();
    assert_eq!(second["price"]["minorUnits"], json!(new));
    let done = settled(&app, second["id"].as_str().expect("id")).await;
    assert_eq!(done["status"], "CONFIRMED", "{done}");
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM events WHERE type = 'booking.failed'"
        )
        .await,
        1
    );
}

fn csv_provider(url: &str) -> (tempfile::TempDir, String) {
    providers_file(&format!(
        "[providers.csv-fares]\nkind = \"http\"\nbase_url = \"{url}\"\nbooking = true\n\
         date_window_days = 31\nnights_range = true\n"
    ))
}

fn csv_search() -> Value {
    json!({
        "origins": ["LHR"], "destinations": ["BKK"],
        "departureFrom": days_from_now(30), "departureTo": days_from_now(30),
        "providers": ["csv-fares"],
    })
}

/// The same idempotency key sent 20 times at once: one booking, one provider call.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_key_sent_twenty_times_books_once() {
    let provider = ExampleProvider::spawn(&[]).await;
    let (_dir, file) = csv_provider(&provider.url);
    let db = TestDb::new(Backend::Postgres).await;
    let app = TestApp::spawn_with(&db, &[("PROVIDERS_FILE", &file)]).await;
    let other = TestApp::spawn_with(&db, &[("PROVIDERS_FILE", &file), ("NO_WORKER", "true")]).await;
    let (_, offers) = search_offers(&app, csv_search()).await;
    let on_other = other.sign_up_or_in(crate::support::TEST_EMAIL).await;
    let sends: Vec<_> = (0..20)
        .map(|i| {
            let session = if i % 2 == 0 {
                (*app).clone()
            } else {
                on_other.clone()
            };
            let input = book_input(
                &offers[0],
                "same-key",
                json!([passenger("Ada", "Lovelace")]),
            );
            tokio::spawn(async move { session.data(BOOK, input).await })
        })
        .collect();
    let mut ids = Vec::new();
    for send in sends {
        ids.push(send.await.expect("task")["bookFlight"]["id"].clone());
    }
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    let done = settled(&app, ids[0].as_str().expect("id")).await;
    assert_eq!(done["status"], "CONFIRMED", "{done}");
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM bookings").await, 1);
    let stats = provider.stats().await;
    assert_eq!(
        (stats["book_calls"].clone(), stats["bookings"].clone()),
        (json!(1), json!(1)),
        "{stats}"
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM events WHERE type LIKE 'booking.%'"
        )
        .await,
        2
    );
}

/// A worker SIGKILLed while the provider has booked but not yet answered: after a restart
/// the booking ends CONFIRMED once, and the provider saw one booking for its key.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_worker_killed_mid_call_confirms_once() {
    let provider = ExampleProvider::spawn(&["--fault", "book-hang", "--delay-ms", "60000"]).await;
    let (_dir, file) = csv_provider(&provider.url);
    let db = TestDb::new(Backend::Postgres).await;
    let api = TestApp::spawn_with(&db, &[("PROVIDERS_FILE", &file), ("NO_WORKER", "true")]).await;
    let worker_env = [
        ("PROVIDERS_FILE", file.as_str()),
        ("WORKER_ID", "booker"),
        ("LEASE_TTL_MS", "2000"),
        ("PROVIDER_TIMEOUT_MS", "120000"),
    ];
    let worker = TestWorker::spawn(&db, &worker_env).await;
    let (_, offers) = search_offers(&api, csv_search()).await;
    let booked = api
        .data(
            BOOK,
            book_input(&offers[0], "crash-1", json!([passenger("Ada", "Lovelace")])),
        )
        .await["bookFlight"]
        .clone();
    assert_eq!(booked["status"], "PENDING");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while provider.stats().await["bookings"] != 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the provider was never called"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    worker.kill().await;
    let id = booked["id"].as_str().expect("id");
    assert_eq!(
        api.data(BOOKING, json!({ "id": id })).await["booking"]["status"],
        "PENDING"
    );
    let restarted = TestWorker::spawn(&db, &worker_env).await;
    let done = settled(&api, id).await;
    assert_eq!(done["status"], "CONFIRMED", "{done}\n{}", restarted.log());
    let stats = provider.stats().await;
    assert_eq!(stats["bookings"], 1, "{stats}");
    assert_eq!(stats["book_calls"], 2, "{stats}");
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM events WHERE type = 'booking.confirmed'"
        )
        .await,
        1
    );
    restarted.kill().await;
}

/// The same key sent 8 times at once for the last seat: every answer is the one booking
/// (none of them SOLD_OUT), on both backends.
async fn one_key_on_the_last_seat(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn(&db).await;
    let admin = app.admin().await;
    let day = days_from_now(15);
    admin
        .data(
            "mutation($i: InventoryFlightInput!) { upsertInventoryFlight(input: $i) { id } }",
            json!({ "i": {
                "flightNumber": "BA9", "airline": "BA", "origin": "LHR", "destination": "BKK",
                "departure": format!("{day}T21:30"), "arrival": format!("{}T15:20", days_from_now(16)),
                "price": 41250, "currency": "EUR", "seatsTotal": 1, "seatsAvailable": 1
            } }),
        )
        .await;
    let (_, offers) = search_offers(
        &app,
        json!({ "origins": ["LHR"], "destinations": ["BKK"], "departureFrom": day, "departureTo": day, "providers": ["inventory"] }),
    )
    .await;
    let sends: Vec<_> = (0..8)
        .map(|_| {
            let session = (*app).clone();
            let input = book_input(
                &offers[0],
                "last-seat",
                json!([passenger("Ada", "Lovelace")]),
            );
            tokio::spawn(async move { session.gql(BOOK, input).await })
        })
        .collect();
    let mut ids = Vec::new();
    for send in sends {
        let body = send.await.expect("task");
        assert_eq!(body["data"]["bookFlight"]["status"], "CONFIRMED", "{body}");
        ids.push(body["data"]["bookFlight"]["id"].clone());
    }
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM bookings").await, 1);
    assert_eq!(
        scalar(
            &db,
            "SELECT CAST(SUM(seats_available) AS BIGINT) FROM inventory_flights"
        )
        .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_one_key_on_the_last_seat() {
    one_key_on_the_last_seat(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_one_key_on_the_last_seat() {
    one_key_on_the_last_seat(Backend::Sqlite).await;
}
