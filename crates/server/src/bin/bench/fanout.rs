//! `fast-flights-bench fanout [NxS …]`: N graphql-transport-ws clients subscribed to
//! `jobProgress` over S running searches (default `1000x1 5000x1 10000x1 10000x100`),
//! against the real `fast-flights` API process with a separate worker process. Prints, per
//! case, the lag of each event from the checkpoint's `updatedAt` to its arrival (p50/p99),
//! events per client, the API's CPU seconds and RSS, idle and while the searches run.
//!
//! `FF_BENCH_BASELINE_BIN` runs every case with an older build too, alternately, so the two
//! are compared in one run; `FF_FANOUT_WINDOW_SECS` (default 10) is how long events are
//! measured. The clients run in this process: on a small box they share its cores with
//! the server, which the lag includes.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{Semaphore, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::{Backend, drop_db, fresh_db};

const JWT_SECRET: &str = "bench-secret-0123456789abcdef0123456789abcdef";
const PASSWORD: &str = "a bench password";
/// Sockets opening at once while the clients connect.
const CONNECTING_AT_ONCE: usize = 256;

#[derive(Clone, Copy)]
struct Case {
    clients: usize,
    searches: usize,
}

impl std::fmt::Display for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = if self.searches == 1 { "" } else { "es" };
        write!(f, "{} clients on {} search{s}", self.clients, self.searches)
    }
}

fn parse_case(text: &str) -> anyhow::Result<Case> {
    let (n, s) = text
        .split_once('x')
        .with_context(|| format!("{text}: a case is CLIENTSxSEARCHES, e.g. 1000x1"))?;
    let case = Case {
        clients: n.parse().with_context(|| format!("{text}: clients"))?,
        searches: s.parse().with_context(|| format!("{text}: searches"))?,
    };
    anyhow::ensure!(
        case.clients >= case.searches && case.searches > 0,
        "{text}: at least one search and one client per search"
    );
    Ok(case)
}

struct Figures {
    lag_p50_ms: f64,
    lag_p99_ms: f64,
    events_per_client: f64,
    /// API CPU seconds per second of the window.
    busy_cores: f64,
    /// API CPU seconds per second with every client subscribed and no search running.
    idle_cores: f64,
    rss_idle_mib: f64,
    rss_per_subscriber_kib: f64,
    rss_running_mib: f64,
    /// The worker's mean checkpoint (its transaction) in the window: the part of the lag
    /// before the event leaves the database.
    checkpoint_ms: f64,
}

pub async fn run(args: &[String]) -> anyhow::Result<()> {
    let cases = if args.is_empty() {
        ["1000x1", "5000x1", "10000x1", "10000x100"]
            .iter()
            .map(|c| parse_case(c))
            .collect::<anyhow::Result<Vec<_>>>()?
    } else {
        args.iter()
            .map(|c| parse_case(c))
            .collect::<anyhow::Result<Vec<_>>>()?
    };
    let window = std::env::var("FF_FANOUT_WINDOW_SECS")
        .ok()
        .map(|s| s.parse::<u64>())
        .transpose()
        .context("FF_FANOUT_WINDOW_SECS")?
        .unwrap_or(10);
    let mut binaries = vec![("this build".to_string(), super::fleet::binary()?)];
    if let Ok(path) = std::env::var("FF_BENCH_BASELINE_BIN") {
        let path = PathBuf::from(path);
        anyhow::ensure!(
            path.exists(),
            "FF_BENCH_BASELINE_BIN: {} is missing",
            path.display()
        );
        binaries.push((format!("baseline {}", path.display()), path));
    }
    // The server is a child with its own table of files, inheriting this limit.
    raise_open_files(cases.iter().map(|c| c.clients).max().unwrap_or(0) as u64 + 1024);
    println!(
        "== fan-out: jobProgress over graphql-transport-ws, simulated provider at 20 ms, \
         a checkpoint every 500 ms, {window} s measured per case"
    );
    println!(
        "{:<30} {:<12} {:>16} {:>11} {:>8} {:>11} {:>11} {:>22} {:>11}",
        "case",
        "build",
        "lag p50 / p99",
        "checkpoint",
        "events",
        "busy cores",
        "idle cores",
        "RSS idle (per sub)",
        "RSS busy"
    );
    for case in &cases {
        for (name, bin) in &binaries {
            let f = measure(bin, *case, Duration::from_secs(window))
                .await
                .with_context(|| format!("{case}, {name}"))?;
            println!(
                "{:<30} {:<12} {:>16} {:>11} {:>8.1} {:>11.2} {:>11.3} {:>22} {:>11}",
                case.to_string(),
                short(name),
                format!("{:.0} / {:.0} ms", f.lag_p50_ms, f.lag_p99_ms),
                format!("{:.0} ms", f.checkpoint_ms),
                f.events_per_client,
                f.busy_cores,
                f.idle_cores,
                format!(
                    "{:.0} MiB ({:.1} KiB)",
                    f.rss_idle_mib, f.rss_per_subscriber_kib
                ),
                format!("{:.0} MiB", f.rss_running_mib),
            );
        }
    }
    Ok(())
}

fn short(name: &str) -> &str {
    if name.starts_with("baseline") {
        "baseline"
    } else {
        name
    }
}

/// Sockets are files: the clients and the server (a child, which inherits the limit) each
/// need one per connection.
fn raise_open_files(wanted: u64) {
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < wanted {
            limit.rlim_cur = wanted.min(limit.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < wanted {
            eprintln!(
                "warning: open files limited to {}; {wanted} wanted (raise it with ulimit -n)",
                limit.rlim_cur
            );
        }
    }
}

async fn measure(bin: &Path, case: Case, window: Duration) -> anyhow::Result<Figures> {
    let db = fresh_db(Backend::Postgres).await?;
    let sockets = (case.clients + 16).to_string();
    let common = [
        ("DATABASE_URL", db.url.as_str()),
        ("JWT_SECRET", JWT_SECRET),
        ("RUST_LOG", "warn"),
        ("SIMULATED_LATENCY_MS", "20"),
        ("CHECKPOINT_EVERY_MS", "500"),
        ("POLL_INTERVAL_MS", "200"),
    ];
    let mut api = Command::new(bin);
    api.envs(common)
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .env("NO_WORKER", "true")
        .env("MAX_SOCKETS_PER_USER", &sockets)
        .env("MAX_SOCKETS_PER_IP", &sockets)
        .env("MAX_ACTIVE_SEARCHES_PER_USER", "1000")
        .env("MAX_SEARCHES_PER_MINUTE_PER_USER", "1000")
        .env("MAX_QUEUED_TASKS_PER_USER", "1000000000")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    let mut api = api
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let pid = api.id().context("the API's pid")?;
    let addr = listening_addr(&mut api).await?;
    let http = reqwest::Client::new();
    let url = format!("http://{addr}/graphql");
    let token = sign_up(&http, &url).await?;
    let mut jobs = Vec::new();
    for i in 0..case.searches {
        jobs.push(start_search(&http, &url, &token, i).await?);
    }

    let rss_before = rss_kib(pid);
    let (stop_tx, stop_rx) = watch::channel(None::<(Instant, Instant)>);
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(case.clients);
    let gate = Arc::new(Semaphore::new(CONNECTING_AT_ONCE));
    let ws_url = format!("ws://{addr}/graphql");
    let mut clients = Vec::with_capacity(case.clients);
    for i in 0..case.clients {
        let job = jobs[i % jobs.len()].clone();
        clients.push(tokio::spawn(client(
            ws_url.clone(),
            token.clone(),
            job,
            gate.clone(),
            ready_tx.clone(),
            stop_rx.clone(),
        )));
    }
    drop(ready_tx);
    let connecting = Instant::now();
    for _ in 0..case.clients {
        tokio::time::timeout(Duration::from_secs(300), ready_rx.recv())
            .await
            .context("clients took over 5 minutes to subscribe")?
            .context("a client failed before subscribing")?;
    }
    let connect_secs = connecting.elapsed().as_secs_f64();

    // Every client subscribed, every search queued and no worker: what idling costs.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle = rss_kib(pid);
    let idle_cpu = cpu_seconds(pid);
    let idle_for = Duration::from_secs(3);
    tokio::time::sleep(idle_for).await;
    let idle_cores = (cpu_seconds(pid) - idle_cpu) / idle_for.as_secs_f64();

    let mut worker = Command::new(bin);
    worker
        .arg("worker")
        .envs(common)
        .env("MAX_CONCURRENT_SEARCHES", case.searches.max(4).to_string())
        .env("METRICS_LISTEN", "127.0.0.1:0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    let mut worker = worker.spawn().context("starting the worker")?;
    let metrics = metrics_url(&mut worker).await?;
    // Let every search get going, then measure.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let from = Instant::now();
    let busy_cpu = cpu_seconds(pid);
    let checkpoints = checkpoint_seconds(&http, &metrics).await?;
    let until = from + window;
    stop_tx.send_replace(Some((from, until)));
    tokio::time::sleep_until(until.into()).await;
    let busy_cores = (cpu_seconds(pid) - busy_cpu) / window.as_secs_f64();
    let rss_running = rss_kib(pid);
    let (sum, count) = checkpoint_seconds(&http, &metrics).await?;
    let checkpoint_ms = (sum - checkpoints.0) / (count - checkpoints.1).max(1.0) * 1000.0;

    let mut lags = Vec::new();
    let mut events = 0usize;
    for c in clients {
        let heard = c.await.context("a client panicked")??;
        events += heard.len();
        lags.extend(heard);
    }
    let _ = worker.kill().await;
    let _ = api.kill().await;
    drop_db(db).await?;
    anyhow::ensure!(!lags.is_empty(), "no event arrived in the window");
    lags.sort_by(f64::total_cmp);
    eprintln!(
        "   ({case}: {:.1} s to subscribe, {} events in the window)",
        connect_secs,
        lags.len()
    );
    Ok(Figures {
        lag_p50_ms: percentile(&lags, 0.50),
        lag_p99_ms: percentile(&lags, 0.99),
        events_per_client: events as f64 / case.clients as f64,
        busy_cores,
        idle_cores,
        rss_idle_mib: rss_idle as f64 / 1024.0,
        rss_per_subscriber_kib: rss_idle.saturating_sub(rss_before) as f64 / case.clients as f64,
        rss_running_mib: rss_running as f64 / 1024.0,
        checkpoint_ms,
    })
}

async fn metrics_url(worker: &mut Child) -> anyhow::Result<String> {
    let stdout = worker.stdout.take().context("the worker's stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let url = tokio::time::timeout(Duration::from_secs(60), async {
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
    .context("the worker did not say where its metrics are within 60 s")?;
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(url)
}

/// The worker's `fast_flights_checkpoint_duration_seconds` sum and count so far.
async fn checkpoint_seconds(http: &reqwest::Client, url: &str) -> anyhow::Result<(f64, f64)> {
    let text = http.get(url).send().await?.text().await?;
    let value = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    Ok((
        value("fast_flights_checkpoint_duration_seconds_sum"),
        value("fast_flights_checkpoint_duration_seconds_count"),
    ))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

async fn listening_addr(child: &mut Child) -> anyhow::Result<String> {
    let stdout = child.stdout.take().context("the API's stdout")?;
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
    .context("the API did not say where it listens within 60 s")?;
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(addr)
}

async fn gql(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> anyhow::Result<Value> {
    let mut request = http
        .post(url)
        .json(&json!({"query": query, "variables": variables}));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let body: Value = request.send().await?.json().await?;
    anyhow::ensure!(body.get("errors").is_none(), "{query}: {body}");
    Ok(body)
}

async fn sign_up(http: &reqwest::Client, url: &str) -> anyhow::Result<String> {
    let body = gql(
        http,
        url,
        None,
        "mutation($e: String!, $p: String!) { signUp(email: $e, password: $p) { token } }",
        json!({"e": "fanout@example.com", "p": PASSWORD}),
    )
    .await?;
    body["data"]["signUp"]["token"]
        .as_str()
        .map(str::to_string)
        .context("signUp gave no token")
}

/// A search that runs well past the window: 5 × 10 × 60 days × 8 nights = 24,000 queries.
async fn start_search(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    i: usize,
) -> anyhow::Result<String> {
    let from = Utc::now().date_naive() + chrono::Duration::days(1 + (i % 30) as i64);
    let to = from + chrono::Duration::days(59);
    let body = gql(
        http,
        url,
        Some(token),
        "mutation($input: SearchInput!) { startSearch(input: $input) { id } }",
        json!({"input": {
            "origins": ["LHR", "LGW", "STN", "LTN", "LCY"],
            "destinations": ["BKK", "SIN", "HND", "NRT", "ICN", "HKG", "KUL", "MNL", "CGK", "DEL"],
            "departureFrom": from.to_string(),
            "departureTo": to.to_string(),
            "nights": {"min": 7, "max": 14},
        }}),
    )
    .await?;
    body["data"]["startSearch"]["id"]
        .as_str()
        .map(str::to_string)
        .context("startSearch gave no id")
}

const SUBSCRIPTION: &str = "subscription($id: UUID!) { jobProgress(jobId: $id) { jobId status \
    totalTasks completedTasks failedTasks foundFlights percent bestPrice { amount currency } \
    tasksPerSecond etaSeconds updatedAt } }";

/// A client's read buffer; the events are well under 1 KiB.
const CLIENT_READ_BUFFER_BYTES: usize = 4 * 1024;

/// One subscriber: connects, subscribes, says so, then records the lag (ms) of every
/// event that arrives inside the window it is given.
async fn client(
    url: String,
    token: String,
    job: String,
    gate: Arc<Semaphore>,
    ready: tokio::sync::mpsc::Sender<()>,
    mut window: watch::Receiver<Option<(Instant, Instant)>>,
) -> anyhow::Result<Vec<f64>> {
    let permit = gate.acquire_owned().await?;
    let mut request = url.into_client_request()?;
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    // tungstenite zeroes its whole read buffer (128 KiB by default) before each read: most
    // of 10,000 clients' CPU on the machine they share with the server.
    let config = WebSocketConfig::default().read_buffer_size(CLIENT_READ_BUFFER_BYTES);
    let (mut socket, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(config), false).await?;
    let send = |v: Value| Message::Text(v.to_string().into());
    socket
        .send(send(json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {token}")}})))
        .await?;
    socket
        .send(send(json!({"type": "subscribe", "id": "1", "payload": {"query": SUBSCRIPTION, "variables": {"id": job}}})))
        .await?;
    let mut subscribed = false;
    let mut lags = Vec::new();
    let mut permit = Some(permit);
    // One timer per client, made again only when the window changes rather than for every
    // message.
    let mut limits = *window.borrow();
    let mut window_ends = Box::pin(sleep_until(limits.map(|(_, until)| until)));
    loop {
        let message = tokio::select! {
            m = socket.next() => m,
            changed = window.changed() => {
                if changed.is_err() { break; }
                limits = *window.borrow();
                window_ends = Box::pin(sleep_until(limits.map(|(_, until)| until)));
                continue;
            }
            _ = &mut window_ends => break,
        };
        let Some(message) = message else { break };
        let text = match message? {
            Message::Text(text) => text,
            Message::Close(frame) => anyhow::bail!("the server closed the socket: {frame:?}"),
            _ => continue,
        };
        let arrived = Utc::now();
        let text = text.as_str();
        // The clients share the machine with the server: events are read without parsing
        // them whole, so the clients' own work adds as little as possible to the lag.
        if subscribed && text.starts_with(r#"{"type":"next""#) {
            if let Some((from, until)) = limits {
                let now = Instant::now();
                if now >= from && now < until {
                    let at = updated_at(text).with_context(|| format!("no updatedAt in {text}"))?;
                    lags.push((arrived - at).num_microseconds().unwrap_or(0) as f64 / 1000.0);
                }
            }
            continue;
        }
        let message: Value = serde_json::from_str(text)?;
        match message["type"].as_str() {
            Some("ping") => socket.send(send(json!({"type": "pong"}))).await?,
            Some("next") => {
                let progress = &message["payload"]["data"]["jobProgress"];
                anyhow::ensure!(!progress.is_null(), "an event without progress: {message}");
                if !subscribed {
                    subscribed = true;
                    permit = None;
                    ready.send(()).await?;
                }
            }
            Some("error") => anyhow::bail!("subscription refused: {message}"),
            _ => {}
        }
    }
    drop(permit);
    let _ = socket.close(None).await;
    Ok(lags)
}

/// The `updatedAt` of a `next` message's progress.
fn updated_at(text: &str) -> Option<DateTime<Utc>> {
    const KEY: &str = r#""updatedAt":""#;
    let start = text.find(KEY)? + KEY.len();
    let end = start + text[start..].find('"')?;
    text[start..end].parse().ok()
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

fn rss_kib(pid: u32) -> u64 {
    super::status_kib(&pid.to_string(), "VmRSS:")
}

/// User + system CPU seconds of a process so far.
fn cpu_seconds(pid: u32) -> f64 {
    // SAFETY: sysconf reads a constant of the system.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // Fields after the command name, which is in parentheses and may hold spaces.
            let rest = s.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: f64 = fields.get(11)?.parse().ok()?;
            let stime: f64 = fields.get(12)?.parse().ok()?;
            Some((utime + stime) / ticks)
        })
        .unwrap_or(0.0)
}
