//! Production mode (`FAST_FLIGHTS_ENV=production`) shows strangers nothing of the API's
//! insides: no introspection without a token, no field suggestions, no GraphiQL unless
//! `GRAPHIQL=on`, no `/metrics` on the API's port without `METRICS_TOKEN`, HSTS and the
//! security headers on every answer. graphql-cop's probes, replayed here, find nothing but
//! GET queries (allowed by the GraphQL-over-HTTP spec).

use serde_json::{Value, json};

use crate::support::{Backend, TestApp, TestDb};

const PRODUCTION: (&str, &str) = ("FAST_FLIGHTS_ENV", "production");
const INTROSPECT: &str = "query cop { __schema { types { name fields { name } } } }";

async fn post_json(app: &crate::support::Session, body: Value) -> (u16, Value) {
    let response = app.post().json(&body).send().await.expect("POST");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn introspection_is_for_signed_in_callers_and_nothing_is_suggested() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn_with(&db, &[PRODUCTION]).await;
    let anonymous = app.anonymous();

    let (status, body) = post_json(&anonymous, json!({ "query": INTROSPECT })).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["data"].is_null(), "no schema for strangers: {body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{body}"
    );
    let message = body["errors"][0]["message"].as_str().unwrap_or("");
    assert!(message.contains("signed-in"), "{message}");

    let (status, body) = post_json(&app.session, json!({ "query": INTROSPECT })).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["data"]["__schema"]["types"]
            .as_array()
            .is_some_and(|t| t.len() > 25),
        "a signed-in integrator reads the schema: {body}"
    );
    // __typename is not introspection and still works for everybody.
    let (_, body) = post_json(&anonymous, json!({ "query": "{ __typename }" })).await;
    assert_eq!(body["data"]["__typename"], "Query", "{body}");

    // A misspelt field is named, with no "Did you mean" pointing at the real ones.
    for who in [&anonymous, &app.session] {
        let (_, body) = post_json(who, json!({ "query": "{ jobz { totalCount } }" })).await;
        let message = body["errors"][0]["message"].as_str().unwrap_or("");
        assert!(message.contains("jobz"), "{body}");
        assert!(!message.to_lowercase().contains("did you mean"), "{body}");
    }

    // Development mode suggests, and shows the schema to anyone.
    let dev_db = TestDb::new(Backend::Sqlite).await;
    let dev = TestApp::spawn(&dev_db).await;
    let (_, body) = post_json(
        &dev.anonymous(),
        json!({ "query": "{ jobz { totalCount } }" }),
    )
    .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("Did you mean"),
        "{body}"
    );
    let (_, body) = post_json(&dev.anonymous(), json!({ "query": INTROSPECT })).await;
    assert!(body["data"]["__schema"]["types"].is_array(), "{body}");
}

#[tokio::test]
async fn graphiql_and_metrics_are_off_the_api_port_unless_asked_for() {
    let db = TestDb::new(Backend::Sqlite).await;
    let metrics_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let metrics_listen = format!("127.0.0.1:{metrics_port}");
    let app = TestApp::spawn_with(&db, &[PRODUCTION, ("METRICS_LISTEN", &metrics_listen)]).await;
    let http = reqwest::Client::new();

    let graphiql = http.get(app.url("/graphiql")).send().await.expect("GET");
    assert_eq!(graphiql.status(), 404);
    let metrics = http.get(app.url("/metrics")).send().await.expect("GET");
    assert_eq!(metrics.status(), 404);
    let text = metrics.text().await.unwrap_or_default();
    assert!(!text.contains("fast_flights_"), "{text}");

    // METRICS_LISTEN serves them, on an address of its own.
    let scraped = http
        .get(format!("http://{metrics_listen}/metrics"))
        .send()
        .await
        .expect("GET metrics listener");
    assert_eq!(scraped.status(), 200);
    assert!(
        scraped
            .text()
            .await
            .unwrap_or_default()
            .contains("fast_flights_")
    );

    // GRAPHIQL=on and METRICS_TOKEN open them on the API's port.
    let db2 = TestDb::new(Backend::Sqlite).await;
    let token = "a-long-random-scraper-token";
    let app2 = TestApp::spawn_with(
        &db2,
        &[PRODUCTION, ("GRAPHIQL", "on"), ("METRICS_TOKEN", token)],
    )
    .await;
    let graphiql = http.get(app2.url("/graphiql")).send().await.expect("GET");
    assert_eq!(graphiql.status(), 200);
    let anonymous = http.get(app2.url("/metrics")).send().await.expect("GET");
    assert_eq!(anonymous.status(), 401);
    let wrong = http
        .get(app2.url("/metrics"))
        .bearer_auth("not-the-token")
        .send()
        .await
        .expect("GET");
    assert_eq!(wrong.status(), 401);
    let scraped = http
        .get(app2.url("/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET");
    assert_eq!(scraped.status(), 200);
    assert!(
        scraped
            .text()
            .await
            .unwrap_or_default()
            .contains("fast_flights_jobs")
    );
}

#[tokio::test]
async fn every_answer_has_hsts_and_the_security_headers_in_production() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn_with(&db, &[PRODUCTION]).await;
    let http = reqwest::Client::new();
    for (method, path) in [
        ("POST", "/graphql"),
        ("GET", "/graphql?query=%7B__typename%7D"),
        ("GET", "/healthz"),
        ("GET", "/nowhere"),
    ] {
        let request = match method {
            "POST" => http
                .post(app.url(path))
                .json(&json!({ "query": "{ __typename }" })),
            _ => http.get(app.url(path)),
        };
        let response = request.send().await.expect("request");
        let headers = response.headers();
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
        };
        assert!(
            get("strict-transport-security").starts_with("max-age=63072000"),
            "{method} {path}: {headers:?}"
        );
        assert_eq!(get("x-content-type-options"), "nosniff", "{method} {path}");
        assert_eq!(get("x-frame-options"), "DENY", "{method} {path}");
        assert_eq!(get("referrer-policy"), "no-referrer", "{method} {path}");
    }
    // Development serves plain http on a laptop: no HSTS there.
    let dev_db = TestDb::new(Backend::Sqlite).await;
    let dev = TestApp::spawn(&dev_db).await;
    let response = http.get(dev.url("/healthz")).send().await.expect("GET");
    assert!(
        response
            .headers()
            .get("strict-transport-security")
            .is_none()
    );
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
}

/// graphql-cop (dolevf/graphql-cop)'s probes, as it sends them, anonymously against a
/// production server: each must find nothing, but GET queries, which the spec allows.
#[tokio::test]
async fn graphql_cop_probes_find_nothing_but_get_queries() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn_with(&db, &[PRODUCTION]).await;
    let anonymous = app.anonymous();
    let http = reqwest::Client::new();
    let graphql = |query: &str| json!({ "query": query, "operationName": "cop" });

    // Alias overloading: 101 aliases.
    let aliases: String = (0..101)
        .map(|i| format!("alias{i}:__typename \n"))
        .collect();
    let (_, body) = post_json(&anonymous, graphql(&format!("query cop {{ {aliases} }}"))).await;
    assert!(
        body["data"]["alias100"].is_null(),
        "alias overloading: {body}"
    );

    // Batching: an array of 10 queries.
    let batch: Vec<Value> = (0..10)
        .map(|_| json!({"query": "query cop { __typename }"}))
        .collect();
    let (_, body) = post_json(&anonymous, Value::Array(batch)).await;
    assert!(
        body.as_array().is_none_or(|a| a.len() < 10),
        "batching: {body}"
    );

    // Directive overloading: ten unknown directives, answered with fewer than ten errors.
    let (_, body) = post_json(
        &anonymous,
        graphql("query cop { __typename @aa@aa@aa@aa@aa@aa@aa@aa@aa@aa }"),
    )
    .await;
    assert_ne!(
        body["errors"].as_array().map(Vec::len),
        Some(10),
        "directive overloading: {body}"
    );

    // Circular introspection and plain introspection.
    let (_, body) = post_json(&anonymous, graphql("query cop { __schema { types { fields { type { fields { type { fields { type { fields { type { name } } } } } } } } } } }")).await;
    assert!(
        body["data"]["__schema"].is_null(),
        "circular introspection: {body}"
    );
    let (_, body) = post_json(&anonymous, graphql(INTROSPECT)).await;
    assert!(body["data"]["__schema"].is_null(), "introspection: {body}");

    // Field suggestions.
    let (_, body) = post_json(&anonymous, graphql("query cop { __schema { directive } }")).await;
    assert!(
        !body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("Did you mean"),
        "field suggestions: {body}"
    );

    // GraphiQL at the GraphQL URL, asked for as HTML.
    let page = http
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("GET");
    let text = page.text().await.unwrap_or_default();
    for word in [
        "graphiql.min.css",
        "GraphQL Playground",
        "GraphiQL",
        "graphql-playground",
    ] {
        assert!(!text.contains(word), "GraphiQL: {text}");
    }

    // A mutation over GET, and a query posted as a form (CSRF).
    let get_mutation = http
        .get(app.url("/graphql"))
        .query(&[("query", "mutation cop { __typename }")])
        .send()
        .await
        .expect("GET");
    assert_ne!(get_mutation.status(), 200, "GET-based mutation");
    let form = http
        .post(app.url("/graphql"))
        .form(&[("query", "query cop { __typename }")])
        .send()
        .await
        .expect("POST form");
    let body: Value = form.json().await.unwrap_or(Value::Null);
    assert!(
        body["data"]["__typename"].is_null(),
        "POST-based CSRF: {body}"
    );

    // Unhandled errors and trace mode: no `exception` or `tracing` extensions.
    let (_, body) = post_json(&anonymous, graphql("qwerty cop { abc }")).await;
    assert!(
        body["errors"][0]["extensions"]["exception"].is_null(),
        "{body}"
    );
    let (_, body) = post_json(&anonymous, graphql("query cop { __typename }")).await;
    assert!(
        !body.to_string().to_lowercase().contains("tracing"),
        "{body}"
    );

    // What it does report: GET queries (allowed; the API takes bearer tokens, not cookies).
    let get_query = http
        .get(app.url("/graphql"))
        .query(&[("query", "query cop { __typename }")])
        .send()
        .await
        .expect("GET");
    assert_eq!(get_query.status(), 200);
}
