//! The search engine end to end, through the real binary, on SQLite and on PostgreSQL.

use std::collections::HashSet;
use std::time::Duration;

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support;
use crate::support::{Backend, TestApp, TestDb, days_from_now};

fn round_trip_input() -> Value {
    json!({
        "origins": ["LON"],
        "destinations": ["BKK", "SIN"],
        "departureFrom": days_from_now(30),
        "departureTo": days_from_now(39),
        "nights": { "min": 7, "max": 10 },
        "label": "London to Asia",
    })
}

/// Starts a small search and waits for it to succeed: a barrier after which the worker has
/// looked for work again. Workers claim the oldest claimable search first, so an earlier
/// search that could run would have been claimed before this one.
async fn run_a_later_search(app: &TestApp) {
    let job = app
        .start_search(json!({
            "origins": ["MAN"],
            "destinations": ["DUB"],
            "departureFrom": days_from_now(30),
            "departureTo": days_from_now(31),
            "label": "barrier",
        }))
        .await;
    let id = job["id"].as_str().expect("id").to_string();
    let events = app.follow_progress(&id, Duration::from_secs(60)).await;
    assert_eq!(events.last().expect("events")["status"], "SUCCEEDED");
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

const FLIGHTS: &str =
    "query($job: UUID!, $after: String, $order: FlightOrder!, $filter: FlightFilter) {
  flights(jobId: $job, first: 50, after: $after, orderBy: $order, filter: $filter) {
    edges { cursor node { id provider origin destination departureAt arrivalAt returnDepartureAt
      returnArrivalAt carrier flightNumbers stops durationMinutes price { minorUnits currency }
      cabin deepLink foundAt departureDate returnDate } }
    pageInfo { hasNextPage endCursor }
  }
}";

/// Every offer of a job in the given order, page by page.
async fn all_flights(app: &TestApp, job: &str, order: &str, filter: Value) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app
            .data(
                FLIGHTS,
                json!({"job": job, "after": after, "order": order, "filter": filter}),
            )
            .await;
        let conn = &data["flights"];
        for edge in conn["edges"].as_array().expect("edges") {
            out.push(edge["node"].clone());
        }
        if conn["pageInfo"]["hasNextPage"] != json!(true) {
            return out;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
}

async fn a_search_runs_to_success_with_live_progress(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn(&db).await;
    let job = app.start_search(round_trip_input()).await;
    assert_eq!(job["status"], "QUEUED");
    let id = job["id"].as_str().expect("id").to_string();
    let total = int(&job["totalTasks"]);
    // LON is 6 airports with data; 2 destinations; 10 dates; 4 trip lengths for the
    // simulated provider, which takes one date and stay per call; the inventory provider
    // takes a month of dates, every stay and both destinations in one call per origin.
    let airports = app
        .data(
            "{ airports(query: \"LON\", first: 1) { airports } }",
            json!({}),
        )
        .await;
    let london = airports["airports"][0]["airports"]
        .as_array()
        .expect("list")
        .len() as i64;
    assert_eq!(total, london * 2 * 10 * 4 + london);

    let events = app.follow_progress(&id, Duration::from_secs(120)).await;
    assert!(!events.is_empty());
    let last = events.last().expect("events");
    assert_eq!(last["status"], "SUCCEEDED", "{events:?}");
    assert_eq!(int(&last["completedTasks"]), total);
    assert_eq!(int(&last["failedTasks"]), 0);
    assert_eq!(last["percent"], json!(100.0));
    for pair in events.windows(2) {
        assert!(
            int(&pair[1]["completedTasks"]) >= int(&pair[0]["completedTasks"]),
            "{events:?}"
        );
        assert!(
            int(&pair[1]["foundFlights"]) >= int(&pair[0]["foundFlights"]),
            "{events:?}"
        );
    }
    assert!(events.iter().all(|e| int(&e["totalTasks"]) == total));
    let found = int(&last["foundFlights"]);
    assert!(found > total, "each query finds several offers: {found}");

    let by_price = all_flights(&app, &id, "PRICE_ASC", Value::Null).await;
    assert_eq!(by_price.len() as i64, found);
    let ids: HashSet<&str> = by_price
        .iter()
        .map(|o| o["id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        ids.len(),
        by_price.len(),
        "no offer appears twice across pages"
    );
    let prices: Vec<i64> = by_price
        .iter()
        .map(|o| int(&o["price"]["minorUnits"]))
        .collect();
    assert!(prices.windows(2).all(|w| w[0] <= w[1]), "sorted by price");
    assert_eq!(int(&last["bestPrice"]["minorUnits"]), prices[0]);
    assert_eq!(last["bestPrice"]["currency"], "EUR");

    let stored = app.job(&id).await;
    assert_eq!(int(&stored["bestPrice"]["minorUnits"]), prices[0]);
    assert_eq!(int(&stored["bestOffer"]["price"]["minorUnits"]), prices[0]);

    let first = &by_price[0];
    assert!(first["returnDepartureAt"].is_string() && first["returnArrivalAt"].is_string());
    assert_eq!(first["provider"], "simulated");
    assert_eq!(first["cabin"], "ECONOMY");

    let by_departure = all_flights(&app, &id, "DEPARTURE_ASC", Value::Null).await;
    assert_eq!(by_departure.len(), by_price.len());
    let departures: Vec<chrono::DateTime<chrono::FixedOffset>> = by_departure
        .iter()
        .map(|o| {
            o["departureAt"]
                .as_str()
                .expect("time")
                .parse()
                .expect("RFC 3339")
        })
        .collect();
    assert!(
        departures.windows(2).all(|w| w[0] <= w[1]),
        "sorted by departure"
    );

    let by_duration = all_flights(&app, &id, "DURATION_ASC", Value::Null).await;
    let durations: Vec<i64> = by_duration
        .iter()
        .map(|o| int(&o["durationMinutes"]))
        .collect();
    assert!(
        durations.windows(2).all(|w| w[0] <= w[1]),
        "sorted by duration"
    );

    let nonstop = all_flights(
        &app,
        &id,
        "PRICE_ASC",
        json!({"maxStops": 0, "destinations": ["BKK"]}),
    )
    .await;
    assert!(
        nonstop
            .iter()
            .all(|o| o["stops"] == 0 && o["destination"] == "BKK")
    );
    assert!(nonstop.len() < by_price.len());

    let calendar = app
        .data(
            "query($job: UUID!) { priceCalendar(jobId: $job) { departureDate returnDate price { minorUnits currency } offers } }",
            json!({"job": id}),
        )
        .await;
    let cells = calendar["priceCalendar"].as_array().expect("cells");
    assert_eq!(
        cells.len(),
        10 * 4,
        "one cell per departure and return date"
    );
    let cheapest = cells.iter().map(|c| int(&c["price"]["minorUnits"])).min();
    assert_eq!(cheapest, Some(prices[0]));
    let offers: i64 = cells.iter().map(|c| int(&c["offers"])).sum();
    assert_eq!(offers, found);

    let body = app
        .gql(
            "mutation($id: UUID!) { cancelSearch(id: $id) { status } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "CONFLICT",
        "{body}"
    );
}

async fn cancelling_a_running_search_keeps_what_it_found(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn_with(
        &db,
        &[("SIMULATED_LATENCY_MS", "20"), ("TASK_CONCURRENCY", "4")],
    )
    .await;
    let mut input = round_trip_input();
    input["departureTo"] = json!(days_from_now(120));
    let job = app.start_search(input).await;
    let id = job["id"].as_str().expect("id").to_string();
    let total = int(&job["totalTasks"]);

    // Wait until it has made progress, then cancel.
    wait_until(&app, &id, Duration::from_secs(60), "progress", has_progress).await;
    let cancelled = app
        .data(
            "mutation($id: UUID!) { cancelSearch(id: $id) { id status cancelRequested } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(cancelled["cancelSearch"]["cancelRequested"], true);

    let events = app.follow_progress(&id, Duration::from_secs(30)).await;
    let last = events.last().expect("events");
    assert_eq!(last["status"], "CANCELLED");
    let done = int(&last["completedTasks"]);
    assert!(
        done > 0 && done < total,
        "stopped part-way: {done} of {total}"
    );
    let found = int(&last["foundFlights"]);
    let stored = all_flights(&app, &id, "PRICE_ASC", Value::Null).await;
    assert_eq!(stored.len() as i64, found, "what it found is kept");

    // It stays cancelled: nothing more is done, even once the worker has claimed and run a
    // later search (claims take the oldest claimable first).
    run_a_later_search(&app).await;
    let later = app.job(&id).await;
    assert_eq!(later["status"], "CANCELLED");
    assert_eq!(int(&later["completedTasks"]), done);
}

async fn a_queued_search_cancels_at_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn_with(&db, &[("NO_WORKER", "true")]).await;
    let job = app.start_search(round_trip_input()).await;
    let id = job["id"].as_str().expect("id");
    let body = app
        .gql(
            "mutation($id: UUID!) { cancelSearch(id: $id) { status } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(body["data"]["cancelSearch"]["status"], "CANCELLED");
    // Again: still cancelled, no error.
    let body = app
        .gql(
            "mutation($id: UUID!) { cancelSearch(id: $id) { status } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(body["data"]["cancelSearch"]["status"], "CANCELLED");
    // A subscriber to a finished job gets its final state and the stream ends.
    let events = app.follow_progress(id, Duration::from_secs(10)).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["status"], "CANCELLED");
}

async fn bad_input_is_rejected_naming_the_field_and_stores_nothing(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn_with(
        &db,
        &[("NO_WORKER", "true"), ("MAX_TASKS_PER_SEARCH", "100000")],
    )
    .await;
    let good = round_trip_input();
    let with = |field: &str, value: Value| {
        let mut input = good.clone();
        input[field] = value;
        input
    };
    let cases = [
        (with("origins", json!([])), "origins"),
        (with("origins", json!(["QQQ"])), "origins"),
        (with("destinations", json!(["B4"])), "destinations"),
        (
            json!({"origins": ["LHR"], "destinations": ["LHR"], "departureFrom": days_from_now(5), "departureTo": days_from_now(6)}),
            "destinations",
        ),
        (
            with("departureFrom", json!(days_from_now(-1))),
            "departureFrom",
        ),
        (with("departureTo", json!(days_from_now(29))), "departureTo"),
        (with("nights", json!({"min": 9, "max": 3})), "nights"),
        (with("adults", json!(0)), "adults"),
        (with("maxStops", json!(7)), "maxStops"),
        (with("maxPrice", json!(-5)), "maxPrice"),
        (with("currency", json!("EURO")), "currency"),
        (with("providers", json!(["nope"])), "providers"),
        (
            with("departureTo", json!(days_from_now(800))),
            "departureTo",
        ),
        (with("departureTo", json!("9999-12-31")), "departureTo"),
        (
            {
                let mut big = with("departureTo", json!(days_from_now(700)));
                big["nights"] = json!({"min": 0, "max": 60});
                big
            },
            "input",
        ),
    ];
    for (input, field) in cases {
        let body = app
            .gql(
                "mutation($input: SearchInput!) { startSearch(input: $input) { id } }",
                json!({"input": input}),
            )
            .await;
        assert_eq!(
            body["errors"].as_array().map(Vec::len),
            Some(1),
            "one bad field, one error: {input} -> {body}"
        );
        let error = &body["errors"][0];
        assert_eq!(
            error["extensions"]["code"], "BAD_USER_INPUT",
            "{input} -> {body}"
        );
        assert_eq!(error["extensions"]["field"], field, "{input} -> {body}");
        assert!(
            error["message"]
                .as_str()
                .expect("message")
                .starts_with(field),
            "{body}"
        );
    }
    // Every bad field at once, each its own error naming its field, in the form's order;
    // the estimate objects exactly as the start does.
    let mut several = with("origins", json!(["ZZZ"]));
    several["destinations"] = json!(["QQQ"]);
    several["nights"] = json!({"min": 14, "max": 7});
    for operation in [
        "mutation($input: SearchInput!) { startSearch(input: $input) { id } }",
        "query($input: SearchInput!) { estimateSearch(input: $input) { totalTasks } }",
    ] {
        let body = app.gql(operation, json!({"input": several})).await;
        let errors = body["errors"].as_array().expect("errors");
        let fields: Vec<&Value> = errors.iter().map(|e| &e["extensions"]["field"]).collect();
        assert_eq!(
            fields,
            vec![&json!("origins"), &json!("destinations"), &json!("nights")],
            "{body}"
        );
        assert!(
            errors
                .iter()
                .all(|e| e["extensions"]["code"] == "BAD_USER_INPUT"),
            "{body}"
        );
        assert_eq!(
            errors[2]["message"],
            "nights: at least 14 nights is more than at most 7"
        );
        assert!(body["data"].is_null(), "{body}");
    }
    let jobs = app
        .data("{ jobs(first: 10) { edges { node { id } } } }", json!({}))
        .await;
    assert_eq!(jobs["jobs"]["edges"], json!([]), "nothing was stored");

    let body = app
        .gql("{ jobs(first: 0) { edges { cursor } } }", json!({}))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    let body = app
        .gql(
            "{ jobs(after: \"garbage\") { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "after");
}

async fn unknown_ids_are_not_found(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn_with(&db, &[("NO_WORKER", "true")]).await;
    let missing = uuid::Uuid::new_v4().to_string();
    for query in [
        "query($id: UUID!) { job(id: $id) { id } }",
        "query($id: UUID!) { flight(id: $id) { id } }",
        "query($id: UUID!) { flights(jobId: $id) { edges { cursor } } }",
        "query($id: UUID!) { priceCalendar(jobId: $id) { departureDate } }",
        "mutation($id: UUID!) { cancelSearch(id: $id) { id } }",
    ] {
        let body = app.gql(query, json!({"id": missing})).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "NOT_FOUND",
            "{query}: {body}"
        );
    }
}

async fn jobs_page_newest_first_and_filter_by_status(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn_with(&db, &[("NO_WORKER", "true")]).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(
            app.start_search(round_trip_input()).await["id"]
                .as_str()
                .expect("id")
                .to_string(),
        );
    }
    app.data(
        "mutation($id: UUID!) { cancelSearch(id: $id) { id } }",
        json!({"id": ids[0]}),
    )
    .await;
    let page = app
        .data("{ jobs(first: 2) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }", json!({}))
        .await;
    let edges = page["jobs"]["edges"].as_array().expect("edges");
    assert_eq!(edges[0]["node"]["id"], ids[2].as_str());
    assert_eq!(edges[1]["node"]["id"], ids[1].as_str());
    assert_eq!(page["jobs"]["pageInfo"]["hasNextPage"], true);
    let next = app
        .data(
            "query($after: String) { jobs(first: 2, after: $after) { edges { node { id } } pageInfo { hasNextPage } } }",
            json!({"after": page["jobs"]["pageInfo"]["endCursor"]}),
        )
        .await;
    assert_eq!(next["jobs"]["edges"][0]["node"]["id"], ids[0].as_str());
    assert_eq!(next["jobs"]["pageInfo"]["hasNextPage"], false);
    let cancelled = app
        .data(
            "{ jobs(status: CANCELLED) { edges { node { id status } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        cancelled["jobs"]["edges"].as_array().expect("edges").len(),
        1
    );
    assert_eq!(cancelled["jobs"]["edges"][0]["node"]["id"], ids[0].as_str());
}

async fn a_restarted_server_resumes_unfinished_searches(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn_with(
        &db,
        &[
            ("SIMULATED_LATENCY_MS", "15"),
            ("TASK_CONCURRENCY", "4"),
            ("LEASE_TTL_MS", "1000"),
        ],
    )
    .await;
    let mut input = round_trip_input();
    input["departureTo"] = json!(days_from_now(60));
    let job = app.start_search(input).await;
    let id = job["id"].as_str().expect("id").to_string();
    let total = int(&job["totalTasks"]);
    wait_until(&app, &id, Duration::from_secs(60), "progress", has_progress).await;
    // A graceful stop commits a last checkpoint, gives the lease up and exits 0.
    let status = app.terminate().await;
    assert!(status.success(), "exit status {status}");
    let conn = db.connect().await;
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT status, completed_tasks, lease_owner FROM search_jobs".to_string(),
        ))
        .await
        .expect("query")
        .expect("row");
    assert_eq!(
        row.try_get::<String>("", "status").expect("status"),
        "RUNNING"
    );
    let done: i64 = row.try_get("", "completed_tasks").expect("completed");
    assert!(done > 0 && done < total, "{done} of {total}");
    assert_eq!(
        row.try_get::<Option<String>>("", "lease_owner")
            .expect("owner"),
        None
    );
    let _ = conn.close().await;

    // The lease was released, so a restart resumes at once, even on PostgreSQL.
    let app = TestApp::spawn_with(
        &db,
        &[("SIMULATED_LATENCY_MS", "1"), ("LEASE_TTL_MS", "60000")],
    )
    .await;
    let events = app.follow_progress(&id, Duration::from_secs(120)).await;
    let last = events.last().expect("events");
    assert_eq!(last["status"], "SUCCEEDED");
    assert_eq!(int(&last["completedTasks"]), total);
    let stored = all_flights(&app, &id, "PRICE_ASC", Value::Null).await;
    assert_eq!(stored.len() as i64, int(&last["foundFlights"]));
}

async fn airports_autocomplete_from_embedded_data(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn_with(&db, &[("NO_WORKER", "true")]).await;
    let data = app
        .data(
            "{ airports(query: \"lon\", first: 5) { code kind name airports } }",
            json!({}),
        )
        .await;
    let list = data["airports"].as_array().expect("list");
    assert_eq!(list[0]["code"], "LON");
    assert_eq!(list[0]["kind"], "METRO");
    assert!(
        list[0]["airports"]
            .as_array()
            .expect("airports")
            .contains(&json!("LHR"))
    );
    let data = app
        .data(
            "{ airports(query: \"Heathrow\") { code timeZone latitude } }",
            json!({}),
        )
        .await;
    assert_eq!(data["airports"][0]["code"], "LHR");
    assert_eq!(data["airports"][0]["timeZone"], "Europe/London");
}

async fn metrics_describe_jobs_tasks_checkpoints_and_subscriptions(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn(&db).await;
    let mut input = round_trip_input();
    input["providers"] = json!(["simulated"]);
    let job = app.start_search(input).await;
    let total = int(&job["totalTasks"]);
    app.follow_progress(job["id"].as_str().expect("id"), Duration::from_secs(60))
        .await;
    // On PostgreSQL the last event is sent inside the checkpoint's transaction, so it can
    // arrive a moment before the worker records that checkpoint's duration.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let text = loop {
        let text = app
            .http
            .get(app.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        if text.contains("fast_flights_checkpoint_duration_seconds_count")
            || tokio::time::Instant::now() > deadline
        {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let value = |line_start: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(line_start))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no `{line_start}` in:\n{text}"))
    };
    assert_eq!(value("fast_flights_jobs{status=\"SUCCEEDED\"}"), 1.0);
    assert_eq!(value("fast_flights_jobs{status=\"RUNNING\"}"), 0.0);
    assert_eq!(
        value("fast_flights_tasks_total{provider=\"simulated\",outcome=\"completed\"}"),
        total as f64
    );
    assert_eq!(
        value("fast_flights_provider_latency_seconds_count{provider=\"simulated\"}"),
        total as f64
    );
    assert!(value("fast_flights_checkpoint_duration_seconds_count") >= 1.0);
    assert_eq!(
        value("fast_flights_active_subscriptions"),
        0.0,
        "the stream ended"
    );
    assert!(value("fast_flights_event_lag_seconds_count") >= 1.0);

    let providers = app
        .admin()
        .await
        .data(
            "{ providers { name enabled health { calls failures errorRate p50Ms p95Ms breaker } } }",
            json!({}),
        )
        .await;
    let simulated = providers["providers"]
        .as_array()
        .and_then(|list| list.iter().find(|p| p["name"] == "simulated"))
        .expect("simulated listed");
    assert_eq!(simulated["name"], "simulated");
    assert_eq!(simulated["enabled"], true);
    let health = &simulated["health"];
    assert_eq!(int(&health["calls"]), total);
    assert_eq!(int(&health["failures"]), 0);
    assert_eq!(health["errorRate"], json!(0.0));
    assert_eq!(health["breaker"], "CLOSED");
    let (p50, p95) = (
        health["p50Ms"].as_f64().expect("p50"),
        health["p95Ms"].as_f64().expect("p95"),
    );
    assert!(p50 > 0.0 && p50 <= p95, "{health}");
}

async fn a_cancel_reaches_the_running_job_as_an_event(backend: Backend) {
    let db = TestDb::new(backend).await;
    // Checkpoints and lease renewals a minute apart: only the event can stop it sooner.
    let app = TestApp::spawn_with(
        &db,
        &[
            ("SIMULATED_LATENCY_MS", "20"),
            ("TASK_CONCURRENCY", "4"),
            ("CHECKPOINT_EVERY_MS", "60000"),
            ("CHECKPOINT_EVERY_TASKS", "1000000"),
            ("LEASE_TTL_MS", "600000"),
        ],
    )
    .await;
    let mut input = round_trip_input();
    input["departureTo"] = json!(days_from_now(120));
    let id = app.start_search(input).await["id"]
        .as_str()
        .expect("id")
        .to_string();
    wait_for_status(&app, &id, "RUNNING").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.data(
        "mutation($id: UUID!) { cancelSearch(id: $id) { id } }",
        json!({"id": id}),
    )
    .await;
    let events = app.follow_progress(&id, Duration::from_secs(15)).await;
    let last = events.last().expect("events");
    assert_eq!(last["status"], "CANCELLED");
    assert!(
        int(&last["completedTasks"]) > 0,
        "the last checkpoint kept the work done: {last}"
    );
}

/// Polls the job until `done` says so, and returns it; fails after `limit`.
async fn wait_until(
    app: &TestApp,
    id: &str,
    limit: Duration,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let started = tokio::time::Instant::now();
    loop {
        let job = app.job(id).await;
        if done(&job) {
            return job;
        }
        assert!(started.elapsed() < limit, "{what} never happened: {job}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_for_status(app: &TestApp, id: &str, status: &str) -> Value {
    wait_until(app, id, Duration::from_secs(30), status, |j| {
        j["status"] == status
    })
    .await
}

fn has_progress(job: &Value) -> bool {
    int(&job["completedTasks"]) > 0
}

async fn lease_owner(db: &TestDb) -> Option<String> {
    let conn = db.connect().await;
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT lease_owner FROM search_jobs".to_string(),
        ))
        .await
        .expect("query")
        .expect("row");
    let owner = row
        .try_get::<Option<String>>("", "lease_owner")
        .expect("owner");
    let _ = conn.close().await;
    owner
}

async fn pausing_and_resuming_continues_from_the_checkpoint(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn_with(
        &db,
        &[("SIMULATED_LATENCY_MS", "20"), ("TASK_CONCURRENCY", "4")],
    )
    .await;
    let mut input = round_trip_input();
    input["departureTo"] = json!(days_from_now(60));
    let job = app.start_search(input).await;
    let id = job["id"].as_str().expect("id").to_string();
    let total = int(&job["totalTasks"]);
    wait_until(&app, &id, Duration::from_secs(30), "progress", has_progress).await;
    let paused = app
        .data(
            "mutation($id: UUID!) { pauseSearch(id: $id) { status pauseRequested } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(paused["pauseSearch"]["pauseRequested"], true, "{paused}");

    let job = wait_for_status(&app, &id, "PAUSED").await;
    let done = int(&job["completedTasks"]);
    assert!(done > 0 && done < total, "{done} of {total}");
    assert_eq!(lease_owner(&db).await, None, "a paused job holds no lease");
    run_a_later_search(&app).await;
    let still = app.job(&id).await;
    assert_eq!(still["status"], "PAUSED");
    assert_eq!(
        int(&still["completedTasks"]),
        done,
        "nothing runs while paused"
    );

    let resumed = app
        .data(
            "mutation($id: UUID!) { resumeSearch(id: $id) { status } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(resumed["resumeSearch"]["status"], "QUEUED");
    let events = app.follow_progress(&id, Duration::from_secs(120)).await;
    let last = events.last().expect("events");
    assert_eq!(last["status"], "SUCCEEDED");
    assert_eq!(
        int(&last["completedTasks"]),
        total,
        "every task counted once"
    );
    let stored = all_flights(&app, &id, "PRICE_ASC", Value::Null).await;
    assert_eq!(stored.len() as i64, int(&last["foundFlights"]));
}

async fn pause_resume_and_cancel_of_a_queued_search(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn_with(&db, &[("NO_WORKER", "true")]).await;
    let id = app.start_search(round_trip_input()).await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let call = |op: &'static str| {
        let app = &app;
        let id = id.clone();
        async move {
            app.gql(
                &format!("mutation($id: UUID!) {{ {op}(id: $id) {{ status }} }}"),
                json!({"id": id}),
            )
            .await
        }
    };
    assert_eq!(
        call("pauseSearch").await["data"]["pauseSearch"]["status"],
        "PAUSED"
    );
    assert_eq!(
        call("pauseSearch").await["data"]["pauseSearch"]["status"],
        "PAUSED"
    );
    assert_eq!(
        call("resumeSearch").await["data"]["resumeSearch"]["status"],
        "QUEUED"
    );
    assert_eq!(
        call("pauseSearch").await["data"]["pauseSearch"]["status"],
        "PAUSED"
    );
    assert_eq!(
        call("cancelSearch").await["data"]["cancelSearch"]["status"],
        "CANCELLED"
    );
    for op in ["resumeSearch", "pauseSearch"] {
        let body = call(op).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "CONFLICT",
            "{op}: {body}"
        );
    }
}

async fn a_search_whose_queries_mostly_fail_ends_failed(backend: Backend) {
    let db = TestDb::new(backend).await;
    // Without retries or a breaker, so that the failure policy alone decides.
    let app = TestApp::spawn_with(
        &db,
        &[
            ("SIMULATED_ERROR_RATE", "0.9"),
            ("SIMULATED_LATENCY_MS", "0"),
            ("PROVIDER_RETRIES", "0"),
            ("PROVIDER_BREAKER_THRESHOLD", "1000000"),
        ],
    )
    .await;
    let job = app.start_search(round_trip_input()).await;
    let id = job["id"].as_str().expect("id");
    let events = app.follow_progress(id, Duration::from_secs(60)).await;
    assert_eq!(events.last().expect("events")["status"], "FAILED");
    let job = app.job(id).await;
    let error = job["error"].as_str().expect("error");
    assert!(
        error.contains("provider queries failed") && error.contains("simulated failure"),
        "{error}"
    );
    let sample = app
        .data(
            "query($id: UUID!) { job(id: $id) { errorSample { taskIndex provider message at } } }",
            json!({"id": id}),
        )
        .await;
    let sample = sample["job"]["errorSample"]
        .as_array()
        .expect("sample")
        .clone();
    assert!(!sample.is_empty() && sample.len() <= 20, "{sample:?}");
    for e in &sample {
        assert_eq!(e["provider"], "simulated");
        assert!(
            e["message"]
                .as_str()
                .expect("message")
                .contains("simulated failure")
        );
        assert!(int(&e["taskIndex"]) < int(&job["totalTasks"]));
    }
    assert!(int(&job["failedTasks"]) * 2 > int(&job["completedTasks"]));
}

async fn retries_carry_a_search_through_an_unreliable_provider(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn_with(
        &db,
        &[
            ("SIMULATED_ERROR_RATE", "0.3"),
            ("SIMULATED_LATENCY_MS", "0"),
        ],
    )
    .await;
    let job = app.start_search(round_trip_input()).await;
    let total = int(&job["totalTasks"]);
    let events = app
        .follow_progress(job["id"].as_str().expect("id"), Duration::from_secs(120))
        .await;
    let last = events.last().expect("events");
    assert_eq!(last["status"], "SUCCEEDED", "{last}");
    // 30% of calls fail, but a task fails only if four attempts in a row do (0.8%).
    assert!(int(&last["failedTasks"]) * 20 < total, "{last}");
    assert_eq!(int(&last["completedTasks"]), total);
}

async fn a_search_that_keeps_killing_its_worker_ends_failed(backend: Backend) {
    let db = TestDb::new(backend).await;
    // No query ever finishes, so no claim makes progress; each process is killed.
    let env: &[(&str, &str)] = &[
        ("SIMULATED_LATENCY_MS", "600000"),
        ("MAX_CLAIMS_WITHOUT_PROGRESS", "2"),
        ("LEASE_TTL_MS", "600"),
    ];
    let app = TestApp::spawn_with(&db, env).await;
    // Only the slow simulated provider: the catalogue (`inventory`) answers at once, and a
    // checkpoint of its answers before a kill would be progress.
    let mut input = round_trip_input();
    input["providers"] = json!(["simulated"]);
    let id = app.start_search(input).await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let mut app = Some(app);
    for claims in 1..=2 {
        let current = app.take().expect("app");
        let started = tokio::time::Instant::now();
        loop {
            let job = current.job(&id).await;
            if job["status"] == "RUNNING" && job["attempts"] == claims {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "claim {claims} never happened: {job}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        current.kill().await;
        app = Some(TestApp::spawn_with(&db, env).await);
    }
    let app = app.expect("app");
    let job = wait_for_status(&app, &id, "FAILED").await;
    let error = job["error"].as_str().expect("error");
    assert!(
        error.contains("2 attempts in a row made no progress"),
        "{error}"
    );
}

/// An API process without a worker and a worker process without an API, on one database:
/// progress crosses processes through PostgreSQL `LISTEN/NOTIFY`, and survives the
/// listening connection being killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_api_and_worker_in_separate_processes() {
    let db = TestDb::new(Backend::Postgres).await;
    let app = TestApp::spawn_with(&db, &[("NO_WORKER", "true")]).await;
    let worker = support::TestWorker::spawn(
        &db,
        &[
            ("POLL_INTERVAL_MS", "100"),
            ("SIMULATED_LATENCY_MS", "20"),
            ("TASK_CONCURRENCY", "4"),
        ],
    )
    .await;
    let mut input = round_trip_input();
    input["departureTo"] = json!(days_from_now(45));
    let job = app.start_search(input).await;
    let id = job["id"].as_str().expect("id").to_string();

    // Halfway, kill every listening connection: the listeners reconnect by themselves.
    let conn = db.connect().await;
    let killer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        conn.execute_unprepared(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE 'LISTEN%'",
        )
        .await
        .expect("terminate listeners");
    });
    let events = app.follow_progress(&id, Duration::from_secs(60)).await;
    killer.await.expect("killer");
    let last = events.last().expect("events");
    assert_eq!(last["status"], "SUCCEEDED", "{events:?}");
    assert_eq!(last["completedTasks"], job["totalTasks"]);
    // Checkpoints every 200 ms over several seconds: events, not the 2 s re-reads, carried
    // the progress.
    assert!(
        events.len() >= 6,
        "only {} events: {events:?}",
        events.len()
    );
    worker.kill().await;
}

on_both_backends!(
    a_search_runs_to_success_with_live_progress,
    cancelling_a_running_search_keeps_what_it_found,
    a_queued_search_cancels_at_once,
    bad_input_is_rejected_naming_the_field_and_stores_nothing,
    unknown_ids_are_not_found,
    jobs_page_newest_first_and_filter_by_status,
    a_restarted_server_resumes_unfinished_searches,
    airports_autocomplete_from_embedded_data,
    pausing_and_resuming_continues_from_the_checkpoint,
    pause_resume_and_cancel_of_a_queued_search,
    a_search_whose_queries_mostly_fail_ends_failed,
    a_search_that_keeps_killing_its_worker_ends_failed,
    metrics_describe_jobs_tasks_checkpoints_and_subscriptions,
    a_cancel_reaches_the_running_job_as_an_event,
    retries_carry_a_search_through_an_unreliable_provider,
);
