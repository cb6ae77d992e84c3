//! GraphQL over HTTP as the GraphQL-over-HTTP specification words it.

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, ALLOW, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::support::{Backend, TestApp, TestDb};

async fn app() -> (TestDb, TestApp) {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn_with(&db, &[("NO_WORKER", "true")]).await;
    (db, app)
}

fn content_type(r: &reqwest::Response) -> String {
    r.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

async fn post(app: &TestApp, accept: Option<&str>, body: &str) -> reqwest::Response {
    let mut req = app
        .http
        .post(app.url("/graphql"))
        .header(CONTENT_TYPE, "application/json")
        .body(body.to_string());
    if let Some(a) = accept {
        req = req.header(ACCEPT, a);
    }
    req.send().await.expect("POST")
}

#[tokio::test]
async fn post_answers_in_the_media_type_asked_for() {
    let (_db, app) = app().await;
    let query = json!({"query": "{ airports(query: \"LHR\", first: 1) { code } }"}).to_string();

    let r = post(&app, Some("application/graphql-response+json"), &query).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(content_type(&r).starts_with("application/graphql-response+json"));
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["data"]["airports"][0]["code"], "LHR");

    let r = post(&app, Some("application/json"), &query).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(content_type(&r).starts_with("application/json"));

    // An explicit application/json beats a wildcard (axios sends this header).
    let r = post(&app, Some("application/json, text/plain, */*"), &query).await;
    assert!(content_type(&r).starts_with("application/json"));

    let r = post(&app, Some("*/*"), &query).await;
    assert!(content_type(&r).starts_with("application/graphql-response+json"));

    // No Accept header at all: application/json.
    let raw = raw_request(
        &app,
        &format!(
            "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{query}",
            query.len()
        ),
    )
    .await;
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    assert!(
        raw.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{raw}"
    );

    let r = post(&app, Some("text/html"), &query).await;
    assert_eq!(r.status(), StatusCode::NOT_ACCEPTABLE);
}

#[tokio::test]
async fn request_errors_are_400_with_no_data_under_graphql_response_json() {
    let (_db, app) = app().await;
    for document in [
        "{ airports(query: ",
        "{ noSuchField }",
        "{ airports { code } }",
    ] {
        let body = json!({"query": document}).to_string();
        let r = post(&app, Some("application/graphql-response+json"), &body).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{document}");
        let v: Value = r.json().await.expect("json");
        assert!(v.get("data").is_none(), "{document}: {v}");
        assert!(v["errors"][0]["message"].is_string(), "{v}");

        // Under application/json the same answer comes with 200.
        let r = post(&app, Some("application/json"), &body).await;
        assert_eq!(r.status(), StatusCode::OK, "{document}");
    }
}

#[tokio::test]
async fn field_errors_are_200_with_data() {
    let (_db, app) = app().await;
    let body = json!({"query": "{ airports(query: \"x\", first: 500) { code } }"}).to_string();
    let r = post(&app, Some("application/graphql-response+json"), &body).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.expect("json");
    assert!(v.get("data").is_some(), "{v}");
    assert_eq!(v["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
}

#[tokio::test]
async fn malformed_requests_are_rejected() {
    let (_db, app) = app().await;
    let accept = Some("application/graphql-response+json");
    assert_eq!(
        post(&app, accept, "{not json").await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        post(&app, accept, "{}").await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        post(&app, accept, r#"{"query": 5}"#).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        post(
            &app,
            accept,
            r#"{"query": "{ __typename }", "variables": [1]}"#
        )
        .await
        .status(),
        StatusCode::BAD_REQUEST
    );
    let r = app
        .http
        .post(app.url("/graphql"))
        .header(CONTENT_TYPE, "text/plain")
        .body("{ __typename }")
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = app.http.put(app.url("/graphql")).send().await.expect("PUT");
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    // A body over the limit is refused from its Content-Length, before it is read.
    let raw = raw_request(
        &app,
        "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2097152\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(raw.starts_with("HTTP/1.1 413"), "{raw}");
}

/// Sends bytes as they are and reads the answer until the server closes.
async fn raw_request(app: &TestApp, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(&app.addr)
        .await
        .expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut buf),
    )
    .await;
    String::from_utf8_lossy(&buf).to_string()
}

#[tokio::test]
async fn get_runs_queries_but_not_mutations() {
    let (_db, app) = app().await;
    let r = app
        .http
        .get(app.url("/graphql"))
        .query(&[
            (
                "query",
                "query($q: String!) { airports(query: $q, first: 1) { code } }",
            ),
            ("variables", r#"{"q": "CDG"}"#),
        ])
        .header(ACCEPT, "application/graphql-response+json")
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["data"]["airports"][0]["code"], "CDG");

    let r = app
        .http
        .get(app.url("/graphql"))
        .query(&[(
            "query",
            "mutation { cancelSearch(id: \"00000000-0000-0000-0000-000000000000\") { id } }",
        )])
        .header(ACCEPT, "application/graphql-response+json")
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        r.headers().get(ALLOW).and_then(|v| v.to_str().ok()),
        Some("POST")
    );

    let r = app.http.get(app.url("/graphql")).send().await.expect("GET");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "GET without a query");
    let r = app
        .http
        .get(app.url("/graphql"))
        .query(&[("query", "{ __typename }"), ("variables", "{oops")])
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn health_readiness_and_graphiql_are_served() {
    let (_db, app) = app().await;
    let r = app
        .http
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .http
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .http
        .get(app.url("/graphiql"))
        .send()
        .await
        .expect("graphiql");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.expect("html").contains("graphiql"));
}
