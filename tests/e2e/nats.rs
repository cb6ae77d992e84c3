//! The JetStream relay against real NATS servers: events arrive in order on their subjects
//! of the machine's NATS (a stream of the test's own); a NATS server of the test's own,
//! stopped and started mid-run, loses nothing and stores no event twice.

use std::collections::HashSet;
use std::process::Stdio;
use std::time::Duration;

use async_nats::jetstream;
use serde_json::Value;
use tokio::process::{Child, Command};

use crate::support::{Backend, TestApp, TestDb};
use crate::webhooks::{events, finished_search};

const CSV_HEADER: &str = "flight_number,airline,origin,destination,departure,arrival,cabin,price,currency,seats_total,seats_available";

/// Where the machine's NATS with JetStream is (`TEST_NATS_URL`).
fn shared_nats_url() -> String {
    std::env::var("TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

async fn jetstream_at(url: &str) -> jetstream::Context {
    let client = async_nats::connect(url).await.unwrap_or_else(|e| {
        panic!("NATS with JetStream is required for this test and is not reachable at {url}: {e}. Start it (see README) or set TEST_NATS_URL.")
    });
    jetstream::new(client)
}

/// Every message in `stream`, oldest first: (subject, Nats-Msg-Id, body).
async fn stream_messages(js: &jetstream::Context, stream: &str) -> Vec<(String, String, Value)> {
    let mut stream = js.get_stream(stream).await.expect("the stream exists");
    let stored = stream.info().await.expect("stream info").state.messages;
    let mut out = Vec::new();
    for seq in 1..=stored {
        let Ok(msg) = stream.get_raw_message(seq).await else {
            continue;
        };
        let id = msg
            .headers
            .get("Nats-Msg-Id")
            .map(|v| v.to_string())
            .unwrap_or_default();
        let body: Value = serde_json::from_slice(&msg.payload).expect("JSON message");
        out.push((msg.subject.to_string(), id, body));
    }
    out
}

async fn wait_stream_len(js: &jetstream::Context, stream: &str, n: u64, limit: Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let stored = match js.get_stream(stream).await {
            Ok(mut s) => s.info().await.map(|i| i.state.messages).unwrap_or(0),
            Err(_) => 0,
        };
        if stored >= n {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stream {stream} holds {stored} messages, not {n}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn unique(prefix: &str) -> String {
    format!("{prefix}{:08x}", fastrand::u32(..))
}

#[tokio::test]
async fn events_arrive_in_order_on_their_subjects() {
    let url = shared_nats_url();
    let js = jetstream_at(&url).await;
    let stream = unique("FF_TEST_");
    let prefix = unique("fftest");
    let subjects = format!("{prefix}.events");
    let db = TestDb::new(Backend::Postgres).await;
    let app = TestApp::spawn_with(
        &db,
        &[
            ("EVENTS_NATS_URL", url.as_str()),
            ("EVENTS_NATS_STREAM", stream.as_str()),
            ("EVENTS_NATS_SUBJECT_PREFIX", subjects.as_str()),
        ],
    )
    .await;
    let admin = app.admin().await;
    for _ in 0..3 {
        finished_search(&app.session).await;
    }
    let (status, body) = admin
        .upload("empty.csv", format!("{CSV_HEADER}\n").into_bytes())
        .await;
    assert!(status.is_success(), "{body}");
    let import = body["data"]["importFlights"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    admin.wait_import(&import, Duration::from_secs(60)).await;
    finished_search(&app.session).await;

    let expected = events(&admin).await;
    assert_eq!(expected.len(), 5, "{expected:#?}");
    wait_stream_len(&js, &stream, 5, Duration::from_secs(60)).await;
    let messages = stream_messages(&js, &stream).await;
    assert_eq!(messages.len(), 5, "{messages:#?}");
    for ((subject, id, body), event) in messages.iter().zip(&expected) {
        let kind = event["type"].as_str().unwrap();
        assert_eq!(subject, &format!("{subjects}.{kind}"));
        assert_eq!(
            id,
            event["id"].as_str().unwrap(),
            "Nats-Msg-Id is the event's id"
        );
        assert_eq!(body["id"], event["id"]);
        assert_eq!(body["sequence"], event["sequence"], "in sequence order");
        assert_eq!(body["type"], event["type"]);
        assert_eq!(body["data"]["v"], 1);
    }
    assert!(
        messages
            .iter()
            .any(|(s, _, _)| s == &format!("{subjects}.import.finished"))
    );
    js.delete_stream(&stream)
        .await
        .expect("delete the test's stream");
}

/// A NATS server of the test's own, on a free port, keeping its JetStream in `dir`.
struct OwnNats {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
}

impl OwnNats {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("address")
            .port();
        let mut nats = Self {
            child: None,
            port,
            dir: tempfile::tempdir().expect("temp dir"),
        };
        nats.run().await;
        nats
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    async fn run(&mut self) {
        let bin = ["/usr/sbin/nats-server", "/usr/bin/nats-server"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .unwrap_or("nats-server");
        let child = Command::new(bin)
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("nats-server is required for this test ({bin}): {e}"));
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "nats-server did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
            let _ = child.wait().await;
        }
    }
}

async fn metric(app: &TestApp, name: &str) -> Option<f64> {
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn nats_stopped_and_started_mid_run_loses_nothing_and_stores_nothing_twice() {
    let mut nats = OwnNats::start().await;
    let url = nats.url();
    let db = TestDb::new(Backend::Postgres).await;
    let app = TestApp::spawn_with(
        &db,
        &[
            ("EVENTS_NATS_URL", url.as_str()),
            ("EVENTS_NATS_STREAM", "FAST_FLIGHTS_EVENTS"),
        ],
    )
    .await;
    let admin = app.admin().await;
    for _ in 0..3 {
        finished_search(&app.session).await;
    }
    {
        let js = jetstream_at(&url).await;
        wait_stream_len(&js, "FAST_FLIGHTS_EVENTS", 3, Duration::from_secs(60)).await;
    }

    nats.kill().await;
    for _ in 0..4 {
        finished_search(&app.session).await;
    }
    // The rest goes on (the searches above finished) and the lag shows.
    let lag_metric = "fast_flights_consumer_lag_events{consumer=\"nats-relay\"}";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let written = events(&admin).await.len();
        let lag = metric(&app, lag_metric).await.unwrap_or(0.0);
        if written == 7 && lag >= 1.0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{written} events written, relay lag {lag} while NATS is down"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    nats.run().await;
    let js = jetstream_at(&url).await;
    wait_stream_len(&js, "FAST_FLIGHTS_EVENTS", 7, Duration::from_secs(90)).await;
    // A barrier instead of a wait: the relay publishes in sequence order and moves on only
    // after an ack, so once a later search's events are in the stream, any second copy
    // of the first seven would be there too.
    finished_search(&app.session).await;
    let written = events(&admin).await.len();
    assert!(written > 7, "the barrier search wrote events");
    wait_stream_len(
        &js,
        "FAST_FLIGHTS_EVENTS",
        written as u64,
        Duration::from_secs(60),
    )
    .await;
    let messages = stream_messages(&js, "FAST_FLIGHTS_EVENTS").await;
    let expected: Vec<String> = events(&admin)
        .await
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    let ids: Vec<String> = messages.iter().map(|(_, id, _)| id.clone()).collect();
    assert_eq!(ids, expected, "every event once, in order");
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while metric(&app, lag_metric).await.unwrap_or(1.0) > 0.0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the relay's lag never went back to 0"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    nats.kill().await;
}
