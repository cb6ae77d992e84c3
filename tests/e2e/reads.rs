//! Reads select only what a query asks for: asking for an offer's every field (segments,
//! flight numbers, the raw payload) still brings them, through `flights` (edges and nodes,
//! fragments included), `flight` and `bestOffer`; asking for a few fields answers those
//! fields with the same values.

use std::time::Duration;

use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::{self, Backend, TestApp, TestDb, days_from_now};

const EVERY_FIELD: &str = "id jobId provider origin destination departureDate returnDate
  departureAt arrivalAt returnDepartureAt returnArrivalAt carrier flightNumbers stops
  durationMinutes price { minorUnits currency amount } cabin
  segments { direction carrier flightNumber origin destination departureAt arrivalAt }
  expiresAt deepLink bookingToken rawPayload foundAt";

/// Every field but `rawPayload` and `job`.
const PLAIN_FIELDS: &str = "id jobId provider origin destination departureDate returnDate
  departureAt arrivalAt returnDepartureAt returnArrivalAt carrier flightNumbers stops
  durationMinutes price { __typename minorUnits currency amount } cabin
  segments { __typename direction carrier flightNumber origin destination departureAt arrivalAt }
  expiresAt deepLink bookingToken foundAt";

const A_FEW_FIELDS: &str = "id price { minorUnits currency } origin destination carrier stops";

async fn finished_search(app: &TestApp) -> String {
    let job = app
        .start_search(json!({
            "origins": ["LHR"],
            "destinations": ["JFK"],
            "departureFrom": days_from_now(30),
            "departureTo": days_from_now(32),
            "nights": { "min": 7, "max": 8 },
        }))
        .await;
    let id = job["id"].as_str().expect("id").to_string();
    let events = app.follow_progress(&id, Duration::from_secs(90)).await;
    assert_eq!(events.last().expect("events")["status"], "SUCCEEDED");
    id
}

fn nodes(data: &Value, path: &str) -> Vec<Value> {
    data.pointer(path)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("no list at {path}: {data}"))
        .clone()
}

/// `offer` restricted to the fields of `like`.
fn project(offer: &Value, like: &Value) -> Value {
    match like.as_object() {
        Some(like) => Value::Object(
            like.iter()
                .map(|(k, v)| (k.clone(), project(&offer[k.as_str()], v)))
                .collect(),
        ),
        None => offer.clone(),
    }
}

async fn a_query_gets_the_fields_it_asks_for(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn(&db).await;
    let job = finished_search(&app).await;

    let full = app
        .data(
            &format!(
                "query($job: UUID!) {{ flights(jobId: $job, first: 30) {{ edges {{ node {{ {EVERY_FIELD} }} }} }} }}"
            ),
            json!({ "job": job }),
        )
        .await;
    let full = nodes(&full, "/flights/edges");
    let full: Vec<Value> = full.iter().map(|e| e["node"].clone()).collect();
    assert!(!full.is_empty(), "the search found offers");
    for offer in &full {
        let segments = offer["segments"].as_array().expect("segments");
        assert!(
            !segments.is_empty(),
            "the simulated provider lists flights: {offer}"
        );
        assert_eq!(segments[0]["direction"], "OUTBOUND");
        assert!(
            segments.iter().any(|s| s["direction"] == "RETURN"),
            "{offer}"
        );
        let numbers = offer["flightNumbers"].as_array().expect("flight numbers");
        assert_eq!(numbers.len(), segments.len(), "{offer}");
        assert_eq!(segments[0]["flightNumber"], numbers[0]);
        assert!(offer.get("rawPayload").is_some(), "rawPayload is answered");
        assert!(offer["departureAt"].is_string() && offer["returnArrivalAt"].is_string());
    }

    // The same page through `nodes` and a fragment: the same offers, field for field.
    let via_fragment = app
        .data(
            &format!(
                "fragment Offer on FlightOffer {{ {EVERY_FIELD} }}
                 query($job: UUID!) {{ flights(jobId: $job, first: 30) {{ nodes {{ ...Offer }} }} }}"
            ),
            json!({ "job": job }),
        )
        .await;
    assert_eq!(nodes(&via_fragment, "/flights/nodes"), full);

    // A few fields: the same values for those, in the same order.
    let lean = app
        .data(
            &format!(
                "query($job: UUID!) {{ flights(jobId: $job, first: 30) {{ edges {{ cursor node {{ {A_FEW_FIELDS} }} }} pageInfo {{ endCursor hasNextPage }} }} }}"
            ),
            json!({ "job": job }),
        )
        .await;
    let edges = nodes(&lean, "/flights/edges");
    let lean_nodes: Vec<Value> = edges.iter().map(|e| e["node"].clone()).collect();
    assert_eq!(lean_nodes.len(), full.len());
    for (lean, full) in lean_nodes.iter().zip(&full) {
        assert_eq!(lean, &project(full, lean));
    }
    // Cursors still page: the second page starts after the first's last edge.
    let last_cursor = edges.last().expect("edges")["cursor"].clone();
    assert_eq!(lean["flights"]["pageInfo"]["endCursor"], last_cursor);

    // `flight` and `bestOffer`, asking for everything, answer what `flights` does.
    let first = &full[0];
    let one = app
        .data(
            &format!(
                "query($id: UUID!, $job: UUID!) {{ flight(id: $id) {{ {EVERY_FIELD} }}
                   job(id: $job) {{ bestOffer {{ {EVERY_FIELD} }} }} }}"
            ),
            json!({ "id": first["id"], "job": job }),
        )
        .await;
    assert_eq!(&one["flight"], first);
    assert_eq!(one["job"]["bestOffer"]["price"], first["price"]);
    assert!(
        !one["job"]["bestOffer"]["segments"]
            .as_array()
            .expect("segments")
            .is_empty()
    );
    // Every field a page answers in one pass (see `OfferNode`), with aliases and
    // `__typename`: the same as `flight` answers them the usual way, field by field.
    let plain = format!("__typename {PLAIN_FIELDS} fare: price {{ __typename amount }}");
    let page = app
        .data(
            &format!(
                "query($job: UUID!) {{ flights(jobId: $job, first: 30) {{ nodes {{ {plain} }} }} }}"
            ),
            json!({ "job": job }),
        )
        .await;
    let page = nodes(&page, "/flights/nodes");
    assert_eq!(page.len(), full.len());
    for (node, full) in page.iter().zip(&full).take(5) {
        let alone = app
            .data(
                &format!("query($id: UUID!) {{ flight(id: $id) {{ {plain} }} }}"),
                json!({ "id": node["id"] }),
            )
            .await;
        assert_eq!(node, &alone["flight"]);
        assert_eq!(node["__typename"], "FlightOffer");
        assert_eq!(node["fare"]["amount"], full["price"]["amount"]);
        let mut segments = node["segments"].clone();
        for segment in segments.as_array_mut().expect("segments") {
            assert_eq!(segment["__typename"], "FlightSegment");
            segment
                .as_object_mut()
                .expect("a segment")
                .remove("__typename");
        }
        assert_eq!(segments, full["segments"]);
    }

    // Each field alone (a read then brings only the columns that field needs): the same
    // value as when everything is asked for, through `flights` and through `flight`.
    for field in [
        "jobId",
        "provider",
        "origin",
        "departureDate",
        "returnDate",
        "departureAt",
        "arrivalAt",
        "returnDepartureAt",
        "returnArrivalAt",
        "carrier",
        "flightNumbers",
        "stops",
        "durationMinutes",
        "price { minorUnits currency amount }",
        "cabin",
        "segments { direction carrier flightNumber origin destination departureAt arrivalAt }",
        "expiresAt",
        "deepLink",
        "bookingToken",
        "foundAt",
        "job { id }",
    ] {
        let page = app
            .data(
                &format!(
                    "query($job: UUID!) {{ flights(jobId: $job, first: 30) {{ nodes {{ id {field} }} }} }}"
                ),
                json!({ "job": job }),
            )
            .await;
        let page = nodes(&page, "/flights/nodes");
        assert_eq!(page.len(), full.len());
        for (node, full) in page.iter().zip(&full) {
            let mut full = full.clone();
            full["job"] = json!({ "id": job });
            assert_eq!(node, &project(&full, node), "{field}");
        }
        let alone = app
            .data(
                &format!("query($id: UUID!) {{ flight(id: $id) {{ id {field} }} }}"),
                json!({ "id": page[0]["id"] }),
            )
            .await;
        assert_eq!(alone["flight"], page[0], "{field}");
    }

    // Paging by departure while asking for no time at all: the cursors still carry it.
    let by_departure = app
        .data(
            "query($job: UUID!) { flights(jobId: $job, first: 30, orderBy: DEPARTURE_ASC) { nodes { id } } }",
            json!({ "job": job }),
        )
        .await;
    let by_departure = nodes(&by_departure, "/flights/nodes");
    let first_page = app
        .data(
            "query($job: UUID!) { flights(jobId: $job, first: 5, orderBy: DEPARTURE_ASC) { nodes { id } pageInfo { endCursor } } }",
            json!({ "job": job }),
        )
        .await;
    let second_page = app
        .data(
            "query($job: UUID!, $after: String) { flights(jobId: $job, first: 5, after: $after, orderBy: DEPARTURE_ASC) { nodes { id } } }",
            json!({ "job": job, "after": first_page["flights"]["pageInfo"]["endCursor"] }),
        )
        .await;
    let paged: Vec<Value> = nodes(&first_page, "/flights/nodes")
        .into_iter()
        .chain(nodes(&second_page, "/flights/nodes"))
        .collect();
    assert_eq!(paged, by_departure[..10]);

    // ...and asking for little, the same little.
    let little = app
        .data(
            "query($id: UUID!, $job: UUID!) { flight(id: $id) { id carrier }
               job(id: $job) { bestOffer { id price { minorUnits } } } }",
            json!({ "id": first["id"], "job": job }),
        )
        .await;
    assert_eq!(
        little["flight"],
        json!({ "id": first["id"], "carrier": first["carrier"] })
    );
    assert_eq!(
        little["job"]["bestOffer"]["price"]["minorUnits"],
        first["price"]["minorUnits"]
    );
}

on_both_backends!(a_query_gets_the_fields_it_asks_for);
