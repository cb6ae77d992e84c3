//! CORS: only the origins in `CORS_ORIGINS` may call the API from a browser; none by default.

use crate::support::{BIN, Backend, TestApp, TestDb};

const PARTNER: &str = "https://partner.example.com";

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.http
        .request(reqwest::Method::OPTIONS, app.url("/graphql"))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type",
        )
        .send()
        .await
        .expect("preflight")
}

fn allowed(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().expect("text").to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listed_origins_pass_a_preflight_and_others_do_not() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn_with(
        &db,
        &[
            ("NO_WORKER", "true"),
            (
                "CORS_ORIGINS",
                "https://partner.example.com, http://localhost:4000",
            ),
        ],
    )
    .await;
    let ok = preflight(&app, PARTNER).await;
    assert!(ok.status().is_success(), "{}", ok.status());
    assert_eq!(allowed(&ok).as_deref(), Some(PARTNER));
    let headers = ok
        .headers()
        .get("access-control-allow-headers")
        .map(|v| v.to_str().expect("text").to_lowercase())
        .unwrap_or_default();
    assert!(
        headers.contains("authorization") && headers.contains("content-type"),
        "{headers}"
    );
    assert_eq!(
        allowed(&preflight(&app, "https://evil.example.com").await),
        None
    );

    // The request itself carries the header for a listed origin.
    let answer = app
        .post()
        .header("Origin", PARTNER)
        .json(&serde_json::json!({ "query": "{ me { email } }" }))
        .send()
        .await
        .expect("POST");
    assert_eq!(allowed(&answer).as_deref(), Some(PARTNER));
    assert_eq!(
        answer.headers().get("access-control-allow-credentials"),
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_origin_is_allowed_by_default() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn_with(&db, &[("NO_WORKER", "true")]).await;
    assert_eq!(allowed(&preflight(&app, PARTNER).await), None);
}

#[tokio::test]
async fn an_origin_with_a_path_stops_start_up_naming_it() {
    let db = TestDb::new(Backend::Sqlite).await;
    let out = tokio::process::Command::new(BIN)
        .arg("serve")
        .env("DATABASE_URL", &db.url)
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .env("NO_WORKER", "true")
        .env("CORS_ORIGINS", "https://partner.example.com/app")
        .output()
        .await
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("CORS_ORIGINS: `https://partner.example.com/app` is not an origin"),
        "{stderr}"
    );
}
