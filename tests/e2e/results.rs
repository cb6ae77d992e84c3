//! What a traveller reads and does with a search's results: every order either way, the
//! filters and their counts, the calendar by destination, renaming and deleting a search;
//! and the admin's lists of accounts and searches by account.

use std::collections::HashSet;
use std::time::Duration;

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support;
use crate::support::{Backend, TestApp, TestDb, days_from_now};

const FLIGHTS: &str =
    "query($job: UUID!, $after: String, $order: FlightOrder!, $filter: FlightFilter) {
  flights(jobId: $job, first: 37, after: $after, orderBy: $order, filter: $filter) {
    totalCount
    nodes { id destination departureAt arrivalAt returnDepartureAt departureDate returnDate stops durationMinutes
      carrier price { minorUnits } foundAt }
    pageInfo { hasNextPage endCursor }
  }
}";

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

/// Minutes after midnight of a time, where it happens (by the offset it carries).
fn local_minute(v: &Value) -> i64 {
    use chrono::Timelike;
    let t = time(v);
    i64::from(t.hour() * 60 + t.minute())
}

fn time(v: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a time: {v}"))
}

/// Every offer in `order` through the cursors, with the `totalCount` each page answered.
async fn pages(app: &TestApp, job: &str, order: &str, filter: Value) -> (Vec<Value>, Vec<i64>) {
    let (mut out, mut totals) = (Vec::new(), Vec::new());
    let mut after = Value::Null;
    loop {
        let data = app
            .data(
                FLIGHTS,
                json!({"job": job, "after": after, "order": order, "filter": filter}),
            )
            .await;
        let conn = &data["flights"];
        totals.push(int(&conn["totalCount"]));
        out.extend(conn["nodes"].as_array().expect("nodes").iter().cloned());
        if conn["pageInfo"]["hasNextPage"] != json!(true) {
            return (out, totals);
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
}

async fn finished_search(app: &TestApp, label: &str) -> String {
    let job = app
        .start_search(json!({
            "origins": ["LHR"],
            "destinations": ["BKK", "SIN"],
            "departureFrom": days_from_now(20),
            "departureTo": days_from_now(24),
            "nights": { "min": 7, "max": 8 },
            "providers": ["simulated"],
            "label": label,
        }))
        .await;
    let id = job["id"].as_str().expect("id").to_string();
    let events = app.follow_progress(&id, Duration::from_secs(120)).await;
    assert_eq!(events.last().expect("events")["status"], "SUCCEEDED");
    id
}

/// The key an order sorts by, compared as the API promises (ties by id).
fn key_of(order: &str, o: &Value) -> (i64, i64) {
    let price = int(&o["price"]["minorUnits"]);
    match order {
        "PRICE" => (price, 0),
        "DEPARTURE" => (time(&o["departureAt"]).timestamp(), 0),
        "ARRIVAL" => (time(&o["arrivalAt"]).timestamp(), 0),
        "DURATION" => (int(&o["durationMinutes"]), 0),
        "STOPS" => (int(&o["stops"]), price),
        other => panic!("no order {other}"),
    }
}

async fn every_order_pages_either_way_and_counts_what_it_shows(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn(&db).await;
    let id = finished_search(&app, "orders").await;
    let (by_price, totals) = pages(&app, &id, "PRICE_ASC", Value::Null).await;
    let all = by_price.len() as i64;
    assert!(all > 37, "more than a page: {all}");
    assert!(totals.iter().all(|t| *t == all), "{totals:?} vs {all}");

    for key in ["PRICE", "DEPARTURE", "ARRIVAL", "DURATION", "STOPS"] {
        for (suffix, descending) in [("ASC", false), ("DESC", true)] {
            let order = format!("{key}_{suffix}");
            let (offers, _) = pages(&app, &id, &order, Value::Null).await;
            let ids: HashSet<&str> = offers
                .iter()
                .map(|o| o["id"].as_str().expect("id"))
                .collect();
            assert_eq!(
                ids.len() as i64,
                all,
                "{order}: every offer once across pages"
            );
            let keys: Vec<(i64, i64)> = offers.iter().map(|o| key_of(key, o)).collect();
            let sorted = keys.windows(2).all(|w| {
                if descending {
                    w[0] >= w[1]
                } else {
                    w[0] <= w[1]
                }
            });
            assert!(sorted, "{order} is not sorted: {keys:?}");
        }
    }

    // A cursor belongs to its order and direction.
    let first = app
        .data(
            FLIGHTS,
            json!({"job": id, "after": null, "order": "STOPS_ASC", "filter": null}),
        )
        .await;
    let cursor = first["flights"]["pageInfo"]["endCursor"].clone();
    for other in ["STOPS_DESC", "PRICE_ASC"] {
        let body = app
            .gql(
                FLIGHTS,
                json!({"job": id, "after": cursor, "order": other, "filter": null}),
            )
            .await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{other}: {body}"
        );
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap_or("")
                .contains("another orderBy"),
            "{body}"
        );
    }
}

async fn filters_by_day_trip_and_time_count_the_same_as_their_pages(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn(&db).await;
    let id = finished_search(&app, "filters").await;
    let (all, _) = pages(&app, &id, "PRICE_ASC", Value::Null).await;

    let day = all[0]["departureDate"].as_str().expect("date").to_string();
    let back = all[0]["returnDate"].as_str().expect("date").to_string();
    let longest = all
        .iter()
        .map(|o| int(&o["durationMinutes"]))
        .max()
        .expect("offers");
    let cap = (all
        .iter()
        .map(|o| int(&o["durationMinutes"]))
        .min()
        .expect("offers")
        + longest)
        / 2;
    let cases = [
        (
            json!({"departureDate": day}),
            Box::new(|o: &Value| o["departureDate"] == json!(day)) as Box<dyn Fn(&Value) -> bool>,
        ),
        (
            json!({"departureDate": day, "returnDate": back}),
            Box::new(|o: &Value| {
                o["departureDate"] == json!(day) && o["returnDate"] == json!(back)
            }),
        ),
        (
            json!({"maxDurationMinutes": cap}),
            Box::new(move |o: &Value| int(&o["durationMinutes"]) <= cap),
        ),
        (
            json!({"destinations": ["SIN"], "maxStops": 1}),
            Box::new(|o: &Value| o["destination"] == "SIN" && int(&o["stops"]) <= 1),
        ),
        // Local times at the airport (the offsets the times carry), ends included.
        (
            json!({"departureTime": {"from": "06:00", "to": "13:59"}}),
            Box::new(|o: &Value| (360..=839).contains(&local_minute(&o["departureAt"]))),
        ),
        // A window from evening to morning runs past midnight.
        (
            json!({"returnTime": {"from": "18:00", "to": "05:59"}}),
            Box::new(|o: &Value| {
                let m = local_minute(&o["returnDepartureAt"]);
                m >= 1080 || m <= 359
            }),
        ),
        (
            json!({"departureTime": {"from": "12:00", "to": "23:59"}, "returnTime": {"from": "00:00", "to": "11:59"}}),
            Box::new(|o: &Value| {
                local_minute(&o["departureAt"]) >= 720
                    && local_minute(&o["returnDepartureAt"]) < 720
            }),
        ),
    ];
    for (filter, keep) in cases {
        let expected = all.iter().filter(|o| keep(o)).count() as i64;
        assert!(
            expected > 0 && expected < all.len() as i64,
            "{filter}: a filter that filters ({expected})"
        );
        let (offers, totals) = pages(&app, &id, "DEPARTURE_DESC", filter.clone()).await;
        assert_eq!(offers.len() as i64, expected, "{filter}");
        assert!(offers.iter().all(&keep), "{filter}");
        assert_eq!(totals[0], expected, "{filter}: totalCount");
    }

    // The airlines found, by code, named where known.
    let airlines = app
        .data(
            "query($id: UUID!) { job(id: $id) { airlines { code name } } }",
            json!({"id": id}),
        )
        .await;
    let listed: Vec<(String, Value)> = airlines["job"]["airlines"]
        .as_array()
        .expect("airlines")
        .iter()
        .map(|a| {
            (
                a["code"].as_str().expect("code").to_string(),
                a["name"].clone(),
            )
        })
        .collect();
    let mut carriers: Vec<String> = all
        .iter()
        .map(|o| o["carrier"].as_str().expect("carrier").to_string())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    carriers.sort();
    assert_eq!(
        listed.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>(),
        carriers
    );
    assert!(
        listed.iter().all(|(_, name)| name.is_string()),
        "the simulated airlines are all named: {listed:?}"
    );

    // A snapshot: nothing was found after the last offer, everything at or before it.
    let last_found = all
        .iter()
        .map(|o| time(&o["foundAt"]))
        .max()
        .expect("offers")
        .to_rfc3339();
    let (none, totals) = pages(&app, &id, "PRICE_ASC", json!({"foundSince": last_found})).await;
    assert!(none.is_empty() && totals == vec![0], "{none:?}");
    let (until, _) = pages(&app, &id, "PRICE_ASC", json!({"foundUntil": last_found})).await;
    assert_eq!(until.len(), all.len());

    let body = app
        .gql(FLIGHTS, json!({"job": id, "after": null, "order": "PRICE_ASC", "filter": {"maxDurationMinutes": 0}}))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "filter.maxDurationMinutes",
        "{body}"
    );
    for bad in ["24:00", "6:00", "06:60"] {
        let body = app
            .gql(FLIGHTS, json!({"job": id, "after": null, "order": "PRICE_ASC", "filter": {"departureTime": {"from": bad, "to": "12:00"}}}))
            .await;
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(&format!("\"{bad}\" is not a time of day in the form HH:MM")),
            "{body}"
        );
    }

    // The calendar of one destination is that destination's cheapest fares.
    let calendar = |destinations: Value| {
        let app = &app;
        let id = id.clone();
        async move {
            app.data(
                "query($job: UUID!, $d: [String!]) { priceCalendar(jobId: $job, destinations: $d) { departureDate returnDate offers price { minorUnits } } }",
                json!({"job": id, "d": destinations}),
            )
            .await["priceCalendar"]
                .as_array()
                .expect("cells")
                .clone()
        }
    };
    let sin = calendar(json!(["sin"])).await;
    let sin_offers: Vec<&Value> = all.iter().filter(|o| o["destination"] == "SIN").collect();
    assert_eq!(
        sin.iter().map(|c| int(&c["offers"])).sum::<i64>(),
        sin_offers.len() as i64
    );
    for cell in &sin {
        let cheapest = sin_offers
            .iter()
            .filter(|o| {
                o["departureDate"] == cell["departureDate"] && o["returnDate"] == cell["returnDate"]
            })
            .map(|o| int(&o["price"]["minorUnits"]))
            .min()
            .expect("a cell has offers");
        assert_eq!(int(&cell["price"]["minorUnits"]), cheapest, "{cell}");
    }
    let both = calendar(Value::Null).await;
    assert_eq!(
        both.iter().map(|c| int(&c["offers"])).sum::<i64>(),
        all.len() as i64
    );
}

async fn a_search_is_renamed_and_deleted_by_its_owner_only(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn(&db).await;
    let id = finished_search(&app, "before").await;
    let offer = app
        .data(
            FLIGHTS,
            json!({"job": id, "after": null, "order": "PRICE_ASC", "filter": null}),
        )
        .await["flights"]["nodes"][0]["id"]
        .clone();

    let rename =
        "mutation($id: UUID!, $l: String!) { renameSearch(id: $id, label: $l) { id label } }";
    let renamed = app
        .data(rename, json!({"id": id, "l": "  Easter in Asia "}))
        .await;
    assert_eq!(renamed["renameSearch"]["label"], "Easter in Asia");
    let label = "query($id: UUID!) { job(id: $id) { label } }";
    assert_eq!(
        app.data(label, json!({"id": id})).await["job"]["label"],
        "Easter in Asia"
    );
    let body = app
        .gql(rename, json!({"id": id, "l": "x".repeat(201)}))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "label", "{body}");
    let cleared = app.data(rename, json!({"id": id, "l": ""})).await;
    assert_eq!(cleared["renameSearch"]["label"], Value::Null);

    // Somebody else sees nothing to rename or delete.
    let other = app.sign_up_or_in("someone-else@example.com").await;
    let delete = "mutation($id: UUID!) { deleteSearch(id: $id) }";
    for (query, vars) in [
        (rename, json!({"id": id, "l": "mine"})),
        (delete, json!({"id": id})),
    ] {
        let body = other.gql(query, vars).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "NOT_FOUND",
            "{body}"
        );
    }

    // A search that has not ended is not deleted.
    let queued = app
        .start_search(json!({
            "origins": ["LHR"], "destinations": ["JFK"],
            "departureFrom": days_from_now(200), "departureTo": days_from_now(260),
            "nights": { "min": 1, "max": 20 }, "providers": ["simulated"],
        }))
        .await;
    let queued = queued["id"].as_str().expect("id");
    let body = app.gql(delete, json!({"id": queued})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "CONFLICT",
        "{body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("cancel it first"),
        "{body}"
    );
    assert!(
        app.gql(
            "query($id: UUID!) { job(id: $id) { id } }",
            json!({"id": queued})
        )
        .await["data"]["job"]
            .is_object()
    );

    let deleted = app.data(delete, json!({"id": id})).await;
    assert_eq!(deleted["deleteSearch"], json!(id));
    for (query, vars) in [
        (
            "query($id: UUID!) { job(id: $id) { id } }",
            json!({"id": id}),
        ),
        (
            "query($id: UUID!) { flight(id: $id) { id } }",
            json!({"id": offer}),
        ),
    ] {
        let body = app.gql(query, vars).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "NOT_FOUND",
            "{body}"
        );
    }
    let conn = db.connect().await;
    let left = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM flight_offers WHERE job_id = '{id}'"),
        ))
        .await
        .expect("count")
        .expect("row");
    let n: i64 = left.try_get("", "n").expect("n");
    assert_eq!(n, 0, "no offer of a deleted search is kept");
}

async fn admins_find_accounts_and_their_searches(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn(&db).await;
    let admin = app.admin().await;
    let ada = app.sign_up_or_in("ada.lovelace@example.com").await;
    app.sign_up_or_in("charles_babbage@example.com").await;
    let users = "query($s: String, $r: Role) { users(first: 50, search: $s, role: $r) { nodes { email role } } }";
    let emails = |v: &Value| -> Vec<String> {
        v["users"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|u| u["email"].as_str().expect("email").to_string())
            .collect()
    };
    assert_eq!(
        emails(&admin.data(users, json!({"s": "LOVELACE"})).await),
        ["ada.lovelace@example.com"]
    );
    // `_` and `%` are letters here, not wildcards.
    assert_eq!(
        emails(&admin.data(users, json!({"s": "s_b"})).await),
        ["charles_babbage@example.com"]
    );
    assert!(emails(&admin.data(users, json!({"s": "%"})).await).is_empty());
    assert_eq!(
        emails(&admin.data(users, json!({"r": "ADMIN"})).await),
        ["admin@example.com"]
    );
    let body = ada.gql(users, json!({})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );

    let mine = ada
        .start_search(json!({"origins": ["LHR"], "destinations": ["JFK"], "departureFrom": days_from_now(30), "departureTo": days_from_now(30), "providers": ["simulated"]}))
        .await;
    app.start_search(json!({"origins": ["LHR"], "destinations": ["CDG"], "departureFrom": days_from_now(30), "departureTo": days_from_now(30), "providers": ["simulated"]}))
        .await;
    let jobs = "query($e: String) { jobs(scope: ALL, ownerEmail: $e, first: 50) { nodes { id } } }";
    let ids = |v: &Value| -> Vec<String> {
        v["jobs"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|j| j["id"].as_str().expect("id").to_string())
            .collect()
    };
    assert_eq!(
        ids(&admin
            .data(jobs, json!({"e": "Ada.Lovelace@example.com"}))
            .await),
        [mine["id"].as_str().expect("id")]
    );
    assert!(ids(&admin.data(jobs, json!({"e": "nobody@example.com"})).await).is_empty());
    assert_eq!(ids(&admin.data(jobs, json!({"e": null})).await).len(), 2);
}

on_both_backends!(
    every_order_pages_either_way_and_counts_what_it_shows,
    filters_by_day_trip_and_time_count_the_same_as_their_pages,
    a_search_is_renamed_and_deleted_by_its_owner_only,
    admins_find_accounts_and_their_searches,
);
