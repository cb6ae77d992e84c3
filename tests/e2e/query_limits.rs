//! What one request may cost, over HTTP against the real binary: the 1,249-alias request,
//! a deep query and the circular introspection query are refused before anything runs,
//! with HTTP 400 and their codes.

use serde_json::{Value, json};

use crate::support::{Backend, TestApp, TestDb};

async fn post(app: &TestApp, query: &str, accept: &str) -> (u16, Value) {
    let response = app
        .post()
        .header("accept", accept)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("POST");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

#[tokio::test]
async fn costly_deep_and_circular_queries_are_refused_with_400() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn(&db).await;
    const MEDIA: &str = "application/graphql-response+json";

    // The request from the issue: 1,249 aliases of jobs(first: 100), 40 KB.
    let aliases: String = (0..1249)
        .map(|i| format!("j{i}: jobs(first: 100) {{ edges {{ node {{ id }} }} }} "))
        .collect();
    let (status, body) = post(&app, &format!("{{ {aliases} }}"), MEDIA).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(code(&body), "QUERY_TOO_COMPLEX", "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("1249") && message.contains("50"),
        "{message}"
    );
    assert!(body.get("data").is_none(), "nothing ran: {body}");

    // Within the alias limit, the pages are what costs.
    let aliases: String = (0..40)
        .map(|i| format!("j{i}: jobs(first: 100) {{ edges {{ node {{ id status }} }} }} "))
        .collect();
    let (status, body) = post(&app, &format!("{{ {aliases} }}"), MEDIA).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(code(&body), "QUERY_TOO_COMPLEX", "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("costs 16040") && message.contains("limit of 10000"),
        "names the cost and the limit: {message}"
    );

    // The same with a small page is fine.
    let aliases: String = (0..40)
        .map(|i| format!("j{i}: jobs(first: 5) {{ edges {{ node {{ id status }} }} }} "))
        .collect();
    let (status, body) = post(&app, &format!("{{ {aliases} }}"), MEDIA).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["errors"].is_null(), "{body}");

    let nested = (0..9).fold("id".to_string(), |inner, _| {
        format!("bestOffer {{ job {{ {inner} }} }}")
    });
    let (status, body) = post(
        &app,
        &format!("{{ jobs {{ edges {{ node {{ {nested} }} }} }} }}"),
        MEDIA,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(code(&body), "QUERY_TOO_DEEP", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("limit of 16"),
        "{body}"
    );

    let circular = "query cop { __schema { types { fields { type { fields { type { fields { type { fields { type { name } } } } } } } } } } }";
    let (status, body) = post(&app, circular, MEDIA).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(code(&body), "QUERY_TOO_DEEP", "{body}");

    // graphql-cop's alias probe: 101 aliases of __typename.
    let typenames: String = (0..101).map(|i| format!("alias{i}: __typename ")).collect();
    let (status, body) = post(&app, &format!("query cop {{ {typenames} }}"), MEDIA).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(code(&body), "QUERY_TOO_COMPLEX", "{body}");

    // As application/json, the GraphQL-over-HTTP spec asks for 200 with the same errors.
    let (status, body) = post(&app, circular, "application/json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(code(&body), "QUERY_TOO_DEEP", "{body}");

    // The standard introspection query (GraphiQL, code generators) passes.
    let standard = include_str!("../../crates/api/tests/introspection_query.graphql");
    let (status, body) = post(&app, standard, MEDIA).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["data"]["__schema"]["types"]
            .as_array()
            .is_some_and(|t| t.len() > 25),
        "{body}"
    );
}
