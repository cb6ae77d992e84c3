//! `TestApp`: the real `fast-flights` binary on port 0 with a database of its own, and
//! typed helpers to talk to it over HTTP and graphql-transport-ws.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub const BIN: &str = env!("CARGO_BIN_EXE_fast-flights");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where PostgreSQL is; tests create and drop a database of their own on it.
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A database that exists for one test and is dropped after it.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    name: Option<String>,
    _dir: tempfile::TempDir,
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => {
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("test.sqlite").display()
                );
                Self {
                    backend,
                    url,
                    name: None,
                    _dir: dir,
                }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let conn = Database::connect(&admin).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL is required for this test and is not reachable at {admin}: {e}. Start it or set TEST_DATABASE_URL.")
                });
                let name = format!("ff_test_{}", uuid::Uuid::new_v4().simple());
                conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                let _ = conn.close().await;
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                Self {
                    backend,
                    url: format!("{base}/{name}"),
                    name: Some(name),
                    _dir: dir,
                }
            }
        }
    }

    /// A database made elsewhere (a test's own cluster), which whoever made it drops.
    pub fn at(backend: Backend, url: String) -> Self {
        Self {
            backend,
            url,
            name: None,
            _dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub async fn connect(&self) -> DatabaseConnection {
        Database::connect(&self.url)
            .await
            .expect("connect to test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.name.take() else { return };
        let admin = postgres_admin_url();
        // Drop runs outside async: a small runtime of its own does the DROP.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(conn) = Database::connect(&admin).await {
                    let _ = conn
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

/// The HS256 secret every test process signs with, so a token from one API process is
/// good on another.
pub const TEST_JWT_SECRET: &str = "test-secret-0123456789abcdef0123456789abcdef";
/// The password of the accounts the helpers make.
pub const TEST_PASSWORD: &str = "correct horse battery staple";
/// The account a `TestApp` signs in as unless told otherwise.
pub const TEST_EMAIL: &str = "tester@example.com";

/// Someone talking to a running API: an address and, when signed in, a token.
#[derive(Clone)]
pub struct Session {
    pub addr: String,
    pub http: reqwest::Client,
    pub token: Option<String>,
}

/// The real binary, serving on a free port, signed in as [`TEST_EMAIL`].
pub struct TestApp {
    pub session: Session,
    pub db_url: String,
    child: Child,
    log: PathBuf,
    _log_dir: tempfile::TempDir,
}

impl std::ops::Deref for TestApp {
    type Target = Session;

    fn deref(&self) -> &Session {
        &self.session
    }
}

pub fn base_env() -> HashMap<&'static str, String> {
    HashMap::from([
        ("LISTEN_ADDR", "127.0.0.1:0".to_string()),
        ("DB_MAX_CONNECTIONS", "4".to_string()),
        ("SIMULATED_LATENCY_MS", "2".to_string()),
        ("CHECKPOINT_EVERY_MS", "200".to_string()),
        ("POLL_INTERVAL_MS", "100".to_string()),
        ("JWT_SECRET", TEST_JWT_SECRET.to_string()),
        // Tests start many searches from one account; `quotas` tests the limits themselves.
        ("MAX_ACTIVE_SEARCHES_PER_USER", "1000".to_string()),
        ("MAX_SEARCHES_PER_MINUTE_PER_USER", "1000".to_string()),
        ("MAX_QUEUED_TASKS_PER_USER", "1000000000".to_string()),
        // Suites sign many accounts up and in from 127.0.0.1; `login_limits` tests the
        // per-address and per-account budgets (the back-off keeps its default).
        ("LOGIN_ATTEMPTS_PER_IP_PER_MINUTE", "100000".to_string()),
        ("LOGIN_ATTEMPTS_PER_ACCOUNT_PER_HOUR", "100000".to_string()),
        (
            "RUST_LOG",
            std::env::var("TEST_LOG")
                .map(|_| "debug".to_string())
                .unwrap_or_else(|_| "info".to_string()),
        ),
    ])
}

impl TestApp {
    pub async fn spawn(db: &TestDb) -> Self {
        Self::spawn_with(db, &[]).await
    }

    /// Starts the binary with extra environment (e.g. `("NO_WORKER", "true")`).
    pub async fn spawn_with(db: &TestDb, extra: &[(&'static str, &str)]) -> Self {
        let mut env = base_env();
        env.insert("DATABASE_URL", db.url.clone());
        for (k, v) in extra {
            env.insert(k, v.to_string());
        }
        let log_dir = tempfile::tempdir().expect("temp dir");
        let log = log_dir.path().join("server.log");
        let log_file = std::fs::File::create(&log).expect("log file");
        let mut child = Command::new(BIN)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .kill_on_drop(true)
            .spawn()
            .expect("start fast-flights");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let addr = tokio::time::timeout(Duration::from_secs(60), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(rest) = line.strip_prefix("fast-flights listening on http://") {
                    return Some(rest.trim().to_string());
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| {
            panic!(
                "fast-flights did not start; its log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let mut app = Self {
            session: Session {
                addr,
                http: reqwest::Client::new(),
                token: None,
            },
            db_url: db.url.clone(),
            child,
            log,
            _log_dir: log_dir,
        };
        app.session = app.sign_up_or_in(TEST_EMAIL).await;
        app
    }

    /// A session of nobody: no token.
    pub fn anonymous(&self) -> Session {
        Session {
            token: None,
            ..self.session.clone()
        }
    }

    /// Signs `email` up (or in, if the account exists) as a USER.
    pub async fn sign_up_or_in(&self, email: &str) -> Session {
        let anon = self.anonymous();
        let body = anon
            .gql(
                "mutation($e: String!, $p: String!) { signUp(email: $e, password: $p) { token } }",
                json!({"e": email, "p": TEST_PASSWORD}),
            )
            .await;
        let token = match body["data"]["signUp"]["token"].as_str() {
            Some(t) => t.to_string(),
            None => anon.log_in(email, TEST_PASSWORD).await,
        };
        Session {
            token: Some(token),
            ..anon
        }
    }

    /// An ADMIN made with `fast-flights user create --role admin`, signed in.
    pub async fn admin(&self) -> Session {
        self.admin_named("admin@example.com").await
    }

    pub async fn admin_named(&self, email: &str) -> Session {
        let anon = self.anonymous();
        let out = create_user_cli(&self.db_url, email, "admin").await;
        assert!(
            out.status.success() || String::from_utf8_lossy(&out.stderr).contains("exists already"),
            "user create failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let token = anon.log_in(email, TEST_PASSWORD).await;
        Session {
            token: Some(token),
            ..anon
        }
    }
}

/// `fast-flights user create --email … --role …` with the password from the environment.
pub async fn create_user_cli(db_url: &str, email: &str, role: &str) -> std::process::Output {
    Command::new(BIN)
        .args(["user", "create", "--email", email, "--role", role])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db_url)
        .env("FAST_FLIGHTS_PASSWORD", TEST_PASSWORD)
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run fast-flights user create")
}

/// VmRSS of a process, in bytes (0 once it is gone).
pub fn rss_of(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

impl Session {
    /// The same server, with another token.
    pub fn with_token(&self, token: &str) -> Session {
        Session {
            token: Some(token.to_string()),
            ..self.clone()
        }
    }

    /// `importFlights` as a GraphQL multipart request; the whole response body.
    pub async fn upload(&self, filename: &str, content: Vec<u8>) -> (reqwest::StatusCode, Value) {
        let form = reqwest::multipart::Form::new()
            .text(
                "operations",
                json!({
                    "query": "mutation($f: Upload!) { importFlights(file: $f) { id status filename sizeBytes sha256 } }",
                    "variables": { "f": null }
                })
                .to_string(),
            )
            .text("map", json!({ "0": ["variables.f"] }).to_string())
            .part(
                "0",
                reqwest::multipart::Part::bytes(content)
                    .file_name(filename.to_string())
                    .mime_str("text/csv")
                    .expect("mime"),
            );
        let mut request = self.http.post(self.url("/graphql")).multipart(form);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("upload");
        let status = response.status();
        (status, response.json().await.expect("JSON body"))
    }

    /// The import, as the API shows it, once it has ended.
    pub async fn wait_import(&self, id: &str, limit: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let import = self
                .data(
                    "query($id: UUID!) { import(id: $id) { id status filename sha256 sizeBytes rowsRead rowsImported
                       rowsRejected percent error attempts rejections(first: 1000) { line reason problems content } } }",
                    json!({ "id": id }),
                )
                .await["import"]
                .clone();
            if import["status"] == "SUCCEEDED" || import["status"] == "FAILED" {
                return import;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "import {id} did not end within {limit:?}: {import}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Signs in and returns the token.
    pub async fn log_in(&self, email: &str, password: &str) -> String {
        let body = self
            .gql(
                "mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { token } }",
                json!({"e": email, "p": password}),
            )
            .await;
        body["data"]["logIn"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("logIn {email} failed: {body}"))
            .to_string()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/graphql", self.addr)
    }

    /// A POST to `/graphql` with this session's token, if any.
    pub fn post(&self) -> reqwest::RequestBuilder {
        let request = self.http.post(self.url("/graphql"));
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// POSTs a GraphQL request and returns the whole response body.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        let response = self
            .post()
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("POST /graphql");
        assert!(
            response.status().is_success(),
            "status {}",
            response.status()
        );
        response.json().await.expect("JSON body")
    }

    /// Like `gql`, but panics on any GraphQL error and returns `data`.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let body = self.gql(query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    pub async fn start_search(&self, input: Value) -> Value {
        let data = self
            .data(
                "mutation($input: SearchInput!) { startSearch(input: $input) { id status totalTasks } }",
                json!({ "input": input }),
            )
            .await;
        data["startSearch"].clone()
    }

    pub async fn job(&self, id: &str) -> Value {
        self.data(
            "query($id: UUID!) { job(id: $id) { id status attempts totalTasks completedTasks failedTasks foundFlights
               cancelRequested error bestPrice { minorUnits currency } bestOffer { id price { minorUnits } } } }",
            json!({ "id": id }),
        )
        .await["job"]
            .clone()
    }

    /// Every `jobProgress` event of a job until the server completes the subscription.
    pub async fn follow_progress(&self, job_id: &str, limit: Duration) -> Vec<Value> {
        let mut ws = WsClient::connect(self).await;
        ws.init().await;
        ws.subscribe(
            "1",
            "subscription($id: UUID!) { jobProgress(jobId: $id) { jobId status completedTasks totalTasks failedTasks foundFlights bestPrice { minorUnits currency } tasksPerSecond etaSeconds percent } }",
            json!({ "id": job_id }),
        )
        .await;
        let mut events = Vec::new();
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let msg = tokio::time::timeout_at(deadline, ws.next_json())
                .await
                .unwrap_or_else(|_| {
                    panic!("job {job_id} did not end within {limit:?}; events so far: {events:?}")
                })
                .expect("socket closed before complete");
            match msg["type"].as_str() {
                Some("next") => {
                    assert!(msg["payload"].get("errors").is_none(), "errors: {msg}");
                    events.push(msg["payload"]["data"]["jobProgress"].clone());
                }
                Some("complete") => return events,
                _ => panic!("unexpected message {msg}"),
            }
        }
    }
}

impl TestApp {
    pub fn pid(&self) -> u32 {
        self.child.id().expect("running")
    }

    /// Resident memory of the server process, from /proc.
    pub fn rss_bytes(&self) -> u64 {
        rss_of(self.pid())
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGKILL: no shutdown, no last checkpoint.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
        let _ = self.child.wait().await;
    }

    /// Sends SIGTERM and waits for the exit status.
    pub async fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().expect("running");
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("exits after SIGTERM")
            .expect("exit status")
    }
}

/// `fast-flights worker` on the same database: searches only, no API.
pub struct TestWorker {
    child: Child,
    /// Where its `/metrics` is served, when started with `METRICS_LISTEN`.
    pub metrics_url: Option<String>,
    log: PathBuf,
    _log_dir: tempfile::TempDir,
}

impl TestWorker {
    pub async fn spawn(db: &TestDb, extra: &[(&'static str, &str)]) -> Self {
        let mut env = base_env();
        env.insert("DATABASE_URL", db.url.clone());
        for (k, v) in extra {
            env.insert(k, v.to_string());
        }
        let wants_metrics = env.contains_key("METRICS_LISTEN");
        let log_dir = tempfile::tempdir().expect("temp dir");
        let log = log_dir.path().join("worker.log");
        let log_file = std::fs::File::create(&log).expect("log file");
        let mut child = Command::new(BIN)
            .arg("worker")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .kill_on_drop(true)
            .spawn()
            .expect("start fast-flights worker");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let metrics_url = if wants_metrics {
            tokio::time::timeout(Duration::from_secs(60), async {
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(url) = line.strip_prefix("fast-flights worker metrics on ") {
                        return Some(url.trim().to_string());
                    }
                }
                None
            })
            .await
            .ok()
            .flatten()
        } else {
            None
        };
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            child,
            metrics_url,
            log,
            _log_dir: log_dir,
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
        let _ = self.child.wait().await;
    }
}

pub struct WsClient {
    stream: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    /// Sent in `connection_init` by [`WsClient::init`].
    token: Option<String>,
    /// Answer the server's `ping`s with `pong` and hide them, as graphql-ws clients do.
    pub answer_pings: bool,
    /// `ping`s answered so far.
    pub pings_answered: usize,
}

impl WsClient {
    pub async fn connect(app: &Session) -> Self {
        Self::connect_with_protocol(app, Some("graphql-transport-ws")).await
    }

    pub async fn connect_with_protocol(app: &Session, protocol: Option<&str>) -> Self {
        Self::try_connect(app, protocol, None)
            .await
            .expect("ws connect")
    }

    /// Connects as the client `ip` that the (trusted, local) proxy names in
    /// `X-Forwarded-For`.
    pub async fn connect_as(
        app: &Session,
        ip: &str,
    ) -> Result<Self, tokio_tungstenite::tungstenite::Error> {
        Self::try_connect(app, Some("graphql-transport-ws"), Some(ip)).await
    }

    async fn try_connect(
        app: &Session,
        protocol: Option<&str>,
        forwarded_for: Option<&str>,
    ) -> Result<Self, tokio_tungstenite::tungstenite::Error> {
        let mut request = app.ws_url().into_client_request().expect("ws request");
        if let Some(p) = protocol {
            request
                .headers_mut()
                .insert("Sec-WebSocket-Protocol", p.parse().expect("header"));
        }
        if let Some(ip) = forwarded_for {
            request
                .headers_mut()
                .insert("X-Forwarded-For", ip.parse().expect("header"));
        }
        let (stream, _) = tokio_tungstenite::connect_async(request).await?;
        Ok(Self {
            stream,
            token: app.token.clone(),
            answer_pings: true,
            pings_answered: 0,
        })
    }

    /// Sends a text message of any size, reporting a failure instead of panicking.
    pub async fn try_send_text(
        &mut self,
        text: String,
    ) -> Result<(), tokio_tungstenite::tungstenite::Error> {
        self.stream.send(Message::Text(text.into())).await
    }

    pub async fn send_json(&mut self, value: Value) {
        self.send_text(&value.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.stream
            .send(Message::Text(text.to_string().into()))
            .await
            .expect("ws send");
    }

    /// `connection_init` with the session's token; expects the ack.
    pub async fn init(&mut self) {
        let payload = match &self.token {
            Some(token) => json!({ "authorization": format!("Bearer {token}") }),
            None => json!({}),
        };
        self.send_json(json!({"type": "connection_init", "payload": payload}))
            .await;
        let ack = self.next_json().await.expect("ack");
        assert_eq!(ack["type"], "connection_ack", "{ack}");
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send_json(json!({
            "id": id, "type": "subscribe",
            "payload": { "query": query, "variables": variables }
        }))
        .await;
    }

    /// The next text message as JSON; `None` once the socket closed.
    pub async fn next_json(&mut self) -> Option<Value> {
        loop {
            match self.stream.next().await? {
                Ok(Message::Text(t)) => {
                    let message: Value = serde_json::from_str(&t).expect("JSON message");
                    if self.answer_pings && message["type"] == "ping" {
                        self.send_json(json!({"type": "pong"})).await;
                        self.pings_answered += 1;
                        continue;
                    }
                    return Some(message);
                }
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// Waits for the server to close the socket and returns the close code and reason.
    pub async fn close_code(&mut self) -> (u16, String) {
        let wait = async {
            loop {
                match self.stream.next().await {
                    Some(Ok(Message::Close(Some(frame)))) => {
                        return (u16::from(frame.code), frame.reason.to_string());
                    }
                    Some(Ok(Message::Close(None))) | None | Some(Err(_)) => {
                        return (0, String::new());
                    }
                    Some(Ok(_)) => continue,
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(10), wait)
            .await
            .expect("the server closes the socket")
    }
}

/// A date `days` from today, as the API takes it.
pub fn days_from_now(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days)).to_string()
}

/// Defines one test per backend for a scenario `async fn name(backend: Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name(super::support::Backend::Sqlite).await }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name(super::support::Backend::Postgres).await }
            )*
        }
    };
}
