//! What the web app needs of the API beyond searches: socket tickets for browser code that
//! never sees the session token, notifications, the best price over time, and providers
//! switched on and off by admins.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Backend, Session, TestApp, TestDb, WsClient, days_from_now};

fn small_search() -> Value {
    json!({
        "origins": ["LHR"],
        "destinations": ["JFK", "BOS"],
        "departureFrom": days_from_now(20),
        "departureTo": days_from_now(24),
        "providers": ["simulated"],
    })
}

/// The next message for operation `id`, skipping those for others.
async fn next_for(ws: &mut WsClient, id: &str) -> Value {
    loop {
        let message = ws.next_json().await.expect("socket still open");
        if message["id"] == id {
            return message;
        }
    }
}

async fn ticket(session: &Session) -> String {
    session
        .data(
            "mutation { createSocketTicket { ticket expiresAt } }",
            json!({}),
        )
        .await["createSocketTicket"]["ticket"]
        .as_str()
        .expect("ticket")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_tickets_open_websockets_and_nothing_else() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn_with(&db, &[("NO_WORKER", "true")]).await;
    let ticket = ticket(&app).await;
    // A websocket opened with the ticket acts as its account.
    let mut ws = WsClient::connect(&app.anonymous().with_token(&ticket)).await;
    ws.init().await;
    let job = app.start_search(small_search()).await;
    ws.subscribe(
        "1",
        "subscription($id: UUID!) { jobProgress(jobId: $id) { status } }",
        json!({ "id": job["id"] }),
    )
    .await;
    let first = ws.next_json().await.expect("message");
    assert_eq!(
        first["payload"]["data"]["jobProgress"]["status"], "QUEUED",
        "{first}"
    );
    // It runs subscriptions only: a query or a mutation over it is refused with an
    // `error` message for that operation, and the socket stays open.
    for (id, query) in [
        ("2", "{ me { id email } }"),
        ("3", "mutation { createSocketTicket { ticket } }"),
    ] {
        ws.subscribe(id, query, json!({})).await;
        let refused = next_for(&mut ws, id).await;
        assert_eq!(refused["type"], "error", "{refused}");
        assert_eq!(refused["id"], id, "{refused}");
        assert_eq!(refused["payload"][0]["extensions"]["code"], "FORBIDDEN");
        assert!(
            refused["payload"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("subscriptions only")),
            "{refused}"
        );
    }
    // The same, named among several operations in one document.
    ws.send_json(json!({
        "id": "4", "type": "subscribe",
        "payload": {
            "query": "subscription S { notifications { kind } } query Q { me { id } }",
            "operationName": "Q",
        },
    }))
    .await;
    let refused = next_for(&mut ws, "4").await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "FORBIDDEN");
    // The subscription it opened before still runs on the same socket.
    app.data(
        "mutation($id: UUID!) { cancelSearch(id: $id) { id } }",
        json!({ "id": job["id"] }),
    )
    .await;
    let update = next_for(&mut ws, "1").await;
    assert_eq!(
        update["payload"]["data"]["jobProgress"]["status"], "CANCELLED",
        "{update}"
    );
    // A socket opened with the session token itself still runs queries.
    let mut session_ws = WsClient::connect(&app).await;
    session_ws.init().await;
    session_ws.subscribe("1", "{ me { id } }", json!({})).await;
    let answer = session_ws.next_json().await.expect("message");
    assert_eq!(answer["type"], "next", "{answer}");
    assert!(
        answer["payload"]["data"]["me"]["id"].is_string(),
        "{answer}"
    );
    // Over HTTP a ticket is refused.
    let response = app
        .anonymous()
        .with_token(&ticket)
        .post()
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), reqwest::StatusCode::UNAUTHORIZED);
    // Nobody gets one.
    let anon = app
        .anonymous()
        .gql("mutation { createSocketTicket { ticket } }", json!({}))
        .await;
    assert_eq!(anon["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_tell_each_account_about_its_own_searches() {
    let db = TestDb::new(Backend::Postgres).await;
    let app = TestApp::spawn(&db).await;
    let other = app.sign_up_or_in("other@example.com").await;
    let admin = app.admin().await;
    let mut mine = WsClient::connect(&app).await;
    mine.init().await;
    mine.subscribe(
        "n",
        "subscription { notifications { kind jobId importId title message } }",
        json!({}),
    )
    .await;
    let mut theirs = WsClient::connect(&other).await;
    theirs.init().await;
    theirs
        .subscribe(
            "n",
            "subscription { notifications { kind jobId title } }",
            json!({}),
        )
        .await;
    let mut admins = WsClient::connect(&admin).await;
    admins.init().await;
    admins
        .subscribe(
            "n",
            "subscription { notifications { kind importId title message } }",
            json!({}),
        )
        .await;
    // The subscriptions are up once a round trip has gone through each socket.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut labelled = small_search();
    labelled["label"] = json!("Spring break");
    let job = app.start_search(labelled).await;
    let next_note = async |ws: &mut WsClient| {
        let msg = tokio::time::timeout(Duration::from_secs(60), ws.next_json())
            .await
            .expect("a notification")
            .expect("socket open");
        msg["payload"]["data"]["notifications"].clone()
    };
    // First that it was queued (so a list open elsewhere can show it), then that it ended.
    let queued = next_note(&mut mine).await;
    assert_eq!(queued["kind"], "SEARCH_QUEUED", "{queued}");
    assert_eq!(queued["jobId"], job["id"]);
    assert_eq!(queued["title"], "Spring break queued");
    let note = next_note(&mut mine).await;
    assert_eq!(note["kind"], "SEARCH_SUCCEEDED", "{note}");
    assert_eq!(note["jobId"], job["id"]);
    assert_eq!(note["title"], "Spring break finished");
    assert!(
        note["message"]
            .as_str()
            .unwrap_or_default()
            .contains("the cheapest is"),
        "{note}"
    );

    // The other account hears about its own search, not about ours.
    let cancelled = other.start_search(small_search()).await;
    let cancel = other
        .gql(
            "mutation($id: UUID!) { cancelSearch(id: $id) { status } }",
            json!({ "id": cancelled["id"] }),
        )
        .await;
    // The same search as ours, answered from the provider-answer cache, may be over already.
    assert!(
        cancel["errors"].is_null() || cancel["errors"][0]["extensions"]["code"] == "CONFLICT",
        "{cancel}"
    );
    let heard = next_note(&mut theirs).await;
    assert_eq!(heard["kind"], "SEARCH_QUEUED", "{heard}");
    assert_eq!(heard["jobId"], cancelled["id"], "{heard}");
    // Its end: cancelled, unless the small search finished before the cancel landed.
    let heard = next_note(&mut theirs).await;
    assert!(
        heard["kind"] == "SEARCH_CANCELLED" || heard["kind"] == "SEARCH_SUCCEEDED",
        "{heard}"
    );
    assert_eq!(heard["jobId"], cancelled["id"], "{heard}");
    // And we heard nothing of theirs: our next note is about our own next search.
    let later = app.start_search(small_search()).await;
    let ours = next_note(&mut mine).await;
    assert_eq!(ours["kind"], "SEARCH_QUEUED", "{ours}");
    assert_eq!(ours["jobId"], later["id"], "{ours}");

    // Admins hear about imports.
    let (status, body) = admin
        .upload(
            "few.csv",
            std::fs::read("../../data/sample-inventory.csv").expect("sample"),
        )
        .await;
    assert!(status.is_success(), "{body}");
    let import_note = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let msg = admins.next_json().await.expect("socket open");
            let n = msg["payload"]["data"]["notifications"].clone();
            if n["kind"] == "IMPORT_SUCCEEDED" {
                return n;
            }
        }
    })
    .await
    .expect("an import notification");
    assert_eq!(import_note["importId"], body["data"]["importFlights"]["id"]);
    assert!(
        import_note["message"]
            .as_str()
            .unwrap_or_default()
            .contains("8 flights imported, 0 rows rejected")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_best_price_over_time_only_goes_down_to_the_best_price() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn_with(
        &db,
        &[
            ("CHECKPOINT_EVERY_MS", "50"),
            ("SIMULATED_LATENCY_MS", "20"),
        ],
    )
    .await;
    let mut input = small_search();
    input["departureTo"] = json!(days_from_now(40));
    let job = app.start_search(input).await;
    let id = job["id"].as_str().expect("id");
    app.follow_progress(id, Duration::from_secs(120)).await;
    let data = app
        .data(
            "query($id: UUID!) { job(id: $id) { bestPrice { minorUnits currency } bestPriceHistory { at price { minorUnits currency } } } }",
            json!({ "id": id }),
        )
        .await;
    let history = data["job"]["bestPriceHistory"]
        .as_array()
        .expect("history")
        .clone();
    assert!(!history.is_empty());
    let prices: Vec<i64> = history
        .iter()
        .map(|p| p["price"]["minorUnits"].as_i64().expect("price"))
        .collect();
    assert!(prices.windows(2).all(|w| w[1] < w[0]), "{prices:?}");
    assert_eq!(
        prices.last().copied(),
        data["job"]["bestPrice"]["minorUnits"].as_i64()
    );
    let times: Vec<&str> = history
        .iter()
        .map(|p| p["at"].as_str().expect("at"))
        .collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    let bad = app
        .gql(
            "query($id: UUID!) { job(id: $id) { bestPriceHistory(points: 0) { at } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(bad["errors"][0]["extensions"]["field"], "points");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_switch_providers_for_every_new_search() {
    let db = TestDb::new(Backend::Postgres).await;
    let app = TestApp::spawn_with(&db, &[("NO_WORKER", "true")]).await;
    let second_api = TestApp::spawn_with(&db, &[("NO_WORKER", "true")]).await;
    let admin = app.admin().await;
    let switched = admin
        .data(
            "mutation { setProviderEnabled(name: \"simulated\", enabled: false) { name enabled } }",
            json!({}),
        )
        .await;
    assert_eq!(switched["setProviderEnabled"]["enabled"], false);
    // Every process sees it.
    let listed = second_api
        .data("{ providers { name enabled } }", json!({}))
        .await;
    let simulated = listed["providers"]
        .as_array()
        .expect("list")
        .iter()
        .find(|p| p["name"] == "simulated")
        .cloned()
        .expect("listed");
    assert_eq!(simulated["enabled"], false);
    let refused = second_api
        .gql(
            "mutation($i: SearchInput!) { startSearch(input: $i) { id } }",
            json!({ "i": small_search() }),
        )
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["field"], "providers",
        "{refused}"
    );
    // Without naming providers, a search uses the enabled ones only.
    let mut input = small_search();
    input.as_object_mut().expect("object").remove("providers");
    let job = second_api
        .data(
            "mutation($i: SearchInput!) { startSearch(input: $i) { spec { providers } } }",
            json!({ "i": input }),
        )
        .await;
    assert_eq!(
        job["startSearch"]["spec"]["providers"],
        json!(["inventory"])
    );
    let unknown = admin
        .gql(
            "mutation { setProviderEnabled(name: \"nope\", enabled: true) { name } }",
            json!({}),
        )
        .await;
    assert_eq!(unknown["errors"][0]["extensions"]["code"], "NOT_FOUND");
    let user = app
        .gql(
            "mutation { setProviderEnabled(name: \"simulated\", enabled: true) { name } }",
            json!({}),
        )
        .await;
    assert_eq!(user["errors"][0]["extensions"]["code"], "FORBIDDEN");
}
