//! `fast-flights-bench integrations`: webhooks and the JetStream relay on PostgreSQL, each
//! beside its floor in the same run.
//!
//! - Webhooks: commit-to-receipt lag at a steady 100 bookings/s (200 events/s) to a local
//!   receiver; deliveries per second over a backlog, to an ordered endpoint and to a
//!   parallel one; the floor: signed POSTs of the same bodies to the same receiver from a
//!   plain reqwest loop (16 at once, as WEBHOOK_CONCURRENCY).
//! - The relay (the machine's NATS, `TEST_NATS_URL`): commit-to-JetStream lag at the same
//!   rate, and events per second over the backlog; the floor: publishes with an ack
//!   awaited one at a time (as the relay does) from a plain async-nats loop.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use providers::ProviderRegistry;
use store::{EventBus, InMemoryEventBus, LeaseKind, NewEndpoint, OfferRecord, SecretKey, Store};
use tokio_util::sync::CancellationToken;
use worker::{NatsSettings, Runner, WebhookSettings, WorkerConfig};

use super::bookings::{book_one, catalogue, offer};
use super::{Backend, drop_db, fresh_db};

const BACKLOG_BOOKINGS: usize = 2_000;
const RATE: usize = 100;
const SECONDS: usize = 10;

/// What the receiver saw: when each `webhook-id` first arrived.
#[derive(Default)]
struct Seen {
    at: HashMap<String, chrono::DateTime<Utc>>,
}

async fn receiver() -> anyhow::Result<(String, Arc<Mutex<Seen>>)> {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let shared = Arc::clone(&seen);
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let seen = Arc::clone(&shared);
            async move {
                if let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok()) {
                    seen.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .at
                        .entry(id.to_string())
                        .or_insert_with(Utc::now);
                }
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((url, seen))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn wait_for(what: &str, limit: Duration, done: impl Fn() -> bool) -> anyhow::Result<f64> {
    let started = Instant::now();
    while !done() {
        anyhow::ensure!(started.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Ok(started.elapsed().as_secs_f64())
}

struct Fleet {
    shutdown: CancellationToken,
    running: tokio::task::JoinHandle<()>,
}

/// One worker process's consumers and webhook senders.
fn start_worker(store: &Store, bus: &Arc<InMemoryEventBus>, config: WorkerConfig) -> Fleet {
    let runner = Runner::with_kinds(
        store.clone(),
        Arc::new(ProviderRegistry::new()),
        Arc::clone(bus) as Arc<dyn EventBus>,
        config,
        &[LeaseKind::Consumer, LeaseKind::Webhook],
    );
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    let running = tokio::spawn(async move {
        if let Err(e) = runner.run(stop).await {
            eprintln!("the worker stopped: {e}");
        }
    });
    Fleet { shutdown, running }
}

impl Fleet {
    async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.running.await?;
        Ok(())
    }
}

async fn endpoint(
    store: &Store,
    key: &SecretKey,
    url: &str,
    parallel: bool,
) -> anyhow::Result<String> {
    let id = uuid::Uuid::now_v7();
    let secret = key.new_signing_secret()?;
    store
        .create_webhook_endpoint(&NewEndpoint {
            id,
            url: url.to_string(),
            event_types: vec!["*".into()],
            description: None,
            parallel,
            sealed_secret: key.seal(id, &secret)?,
            created_by: None,
        })
        .await?;
    Ok(secret)
}

async fn backlog(store: &Store, offers: &[OfferRecord], tag: &str) -> anyhow::Result<usize> {
    let account = uuid::Uuid::now_v7();
    let mut booked = 0;
    let mut batch = Vec::new();
    for i in 0..BACKLOG_BOOKINGS {
        let (s, o) = (store.clone(), offers[i % offers.len()].clone());
        let key = format!("{tag}-{i}");
        batch.push(tokio::spawn(async move {
            book_one(&s, &o, account, key, None).await
        }));
        if batch.len() == 32 {
            for b in batch.drain(..) {
                b.await??;
                booked += 1;
            }
        }
    }
    for b in batch {
        b.await??;
        booked += 1;
    }
    Ok(booked * 2)
}

/// Bookings at a steady rate, told to the bus as the API does; the events' ids and
/// `created_at`.
async fn paced(
    store: &Store,
    bus: &Arc<InMemoryEventBus>,
    offers: &[OfferRecord],
    tag: &str,
) -> anyhow::Result<()> {
    let mut ticks = tokio::time::interval(Duration::from_secs(1) / RATE as u32);
    let account = uuid::Uuid::now_v7();
    let mut all = Vec::with_capacity(RATE * SECONDS);
    for i in 0..RATE * SECONDS {
        ticks.tick().await;
        let (s, o, b) = (
            store.clone(),
            offers[i % offers.len()].clone(),
            Arc::clone(bus),
        );
        let key = format!("{tag}-{i}");
        all.push(tokio::spawn(async move {
            book_one(&s, &o, account, key, Some(&b)).await
        }));
    }
    for b in all {
        b.await??;
    }
    Ok(())
}

/// `(id, created_at)` of the events after `after`.
async fn events_after(store: &Store, after: i64) -> anyhow::Result<Vec<store::EventRecord>> {
    let mut all = Vec::new();
    let mut position = after;
    loop {
        let batch = store.events_after(position, 1_000).await?;
        let Some(last) = batch.last() else {
            return Ok(all);
        };
        position = last.sequence;
        all.extend(batch);
    }
}

fn lags(events: &[store::EventRecord], seen: &HashMap<String, chrono::DateTime<Utc>>) -> Vec<f64> {
    let mut lags: Vec<f64> = events
        .iter()
        .filter_map(|e| {
            seen.get(&e.id.to_string())
                .map(|at| (*at - e.created_at).num_microseconds().unwrap_or(0) as f64 / 1000.0)
        })
        .collect();
    lags.sort_by(f64::total_cmp);
    lags
}

async fn last_sequence(store: &Store) -> anyhow::Result<i64> {
    Ok(events_after(store, 0)
        .await?
        .last()
        .map_or(0, |e| e.sequence))
}

/// The floor of deliveries: the same signed bodies POSTed to the same receiver, 16 at once.
async fn post_floor(url: &str, secret: &str, events: &[store::EventRecord]) -> anyhow::Result<f64> {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let work = Arc::new(Mutex::new(events.to_vec()));
    let mut workers = Vec::new();
    for _ in 0..16 {
        let (client, work, url, secret) = (
            client.clone(),
            Arc::clone(&work),
            url.to_string(),
            secret.to_string(),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let next = work.lock().unwrap_or_else(|e| e.into_inner()).pop();
                let Some(event) = next else {
                    return Ok::<_, anyhow::Error>(());
                };
                let body = worker::webhooks::delivery_body(&event);
                let id = format!("floor-{}", event.id);
                let ts = Utc::now().timestamp();
                let signature =
                    worker::webhooks::signature(std::slice::from_ref(&secret), &id, ts, &body)
                        .map_err(anyhow::Error::msg)?;
                client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("webhook-id", id)
                    .header("webhook-timestamp", ts.to_string())
                    .header("webhook-signature", signature)
                    .body(body)
                    .send()
                    .await?
                    .error_for_status()?;
            }
        }));
    }
    for w in workers {
        w.await??;
    }
    Ok(events.len() as f64 / started.elapsed().as_secs_f64())
}

async fn webhooks(store: &Store, offers: &[OfferRecord]) -> anyhow::Result<()> {
    let key = Arc::new(SecretKey::random()?);
    let bus = Arc::new(InMemoryEventBus::default());
    let config = WorkerConfig {
        poll_interval: Duration::from_millis(200),
        webhooks: WebhookSettings {
            key: Some(Arc::clone(&key)),
            ..WebhookSettings::default()
        },
        ..WorkerConfig::default()
    };

    // Lag at a steady rate, to an ordered endpoint.
    let (url, seen) = receiver().await?;
    let secret = endpoint(store, &key, &url, false).await?;
    let before = last_sequence(store).await?;
    let fleet = start_worker(store, &bus, config.clone());
    paced(store, &bus, offers, "paced").await?;
    let written = events_after(store, before).await?;
    wait_for("paced deliveries", Duration::from_secs(120), || {
        seen.lock().unwrap_or_else(|e| e.into_inner()).at.len() >= written.len()
    })
    .await?;
    fleet.stop().await?;
    let lag = lags(&written, &seen.lock().unwrap_or_else(|e| e.into_inner()).at);
    println!(
        "  webhooks: commit-to-receipt lag at {} events/s ({} events, one ordered endpoint): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        RATE * 2,
        lag.len(),
        percentile(&lag, 0.5),
        percentile(&lag, 0.99),
        lag.last().copied().unwrap_or(f64::NAN)
    );
    store
        .update_webhook_endpoint(
            store
                .webhook_endpoints()
                .await?
                .first()
                .context("the endpoint")?
                .id,
            &store::EndpointChanges {
                enabled: Some(false),
                ..Default::default()
            },
        )
        .await?;

    // Throughput over a backlog: ordered, then parallel.
    for parallel in [false, true] {
        let (url, seen) = receiver().await?;
        let secret_here = endpoint(store, &key, &url, parallel).await?;
        let before = last_sequence(store).await?;
        let n = backlog(store, offers, if parallel { "par" } else { "ord" }).await?;
        let fleet = start_worker(store, &bus, config.clone());
        let seconds = wait_for("the backlog's deliveries", Duration::from_secs(600), || {
            seen.lock().unwrap_or_else(|e| e.into_inner()).at.len() >= n
        })
        .await?;
        fleet.stop().await?;
        let events = events_after(store, before).await?;
        let floor = post_floor(&url, &secret_here, &events).await?;
        let ours = n as f64 / seconds;
        println!(
            "  webhooks: {} endpoint, a backlog of {n} events: {ours:.0} deliveries/s (fan-out included); the floor \
             (the same signed POSTs from a plain loop, 16 at once) {floor:.0}/s = {:.2} of the floor",
            if parallel { "a parallel" } else { "an ordered" },
            ours / floor
        );
        for endpoint in store.webhook_endpoints().await? {
            store
                .update_webhook_endpoint(
                    endpoint.id,
                    &store::EndpointChanges {
                        enabled: Some(false),
                        ..Default::default()
                    },
                )
                .await?;
        }
    }
    let _ = secret;
    Ok(())
}

async fn relay(store: &Store, offers: &[OfferRecord]) -> anyhow::Result<()> {
    let url = std::env::var("TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let client = async_nats::connect(&url)
        .await
        .with_context(|| format!("NATS at {url} (start nats-server -js, or set TEST_NATS_URL)"))?;
    let js = async_nats::jetstream::new(client.clone());
    let stream = format!("FF_BENCH_{:08x}", fastrand::u32(..));
    let prefix = format!("ffbench{:08x}.events", fastrand::u32(..));
    let bus = Arc::new(InMemoryEventBus::default());
    let config = WorkerConfig {
        poll_interval: Duration::from_millis(200),
        nats: Some(NatsSettings {
            url: url.clone(),
            stream: stream.clone(),
            subject_prefix: prefix.clone(),
            ..NatsSettings::default()
        }),
        ..WorkerConfig::default()
    };
    // Ours: the relay consumer alone (the built-in ones read the same outbox beside it).
    let seen: Arc<Mutex<HashMap<String, chrono::DateTime<Utc>>>> = Default::default();
    let mut subscription = client.subscribe(format!("{prefix}.>")).await?;
    let recorder = {
        let seen = Arc::clone(&seen);
        tokio::spawn(async move {
            use futures::StreamExt;
            while let Some(msg) = subscription.next().await {
                let id = msg
                    .headers
                    .as_ref()
                    .and_then(|h| h.get("Nats-Msg-Id"))
                    .map(|v| v.to_string());
                if let Some(id) = id {
                    seen.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .entry(id)
                        .or_insert_with(Utc::now);
                }
            }
        })
    };
    // The relay starts at the beginning of the outbox: let it catch up first.
    let everything = events_after(store, 0).await?.len();
    let fleet = start_worker(store, &bus, config.clone());
    let catch_up = wait_for("the relay to catch up", Duration::from_secs(600), || {
        seen.lock().unwrap_or_else(|e| e.into_inner()).len() >= everything
    })
    .await?;
    println!(
        "  relay: the whole outbox, {everything} events, to JetStream: {:.0} events/s",
        everything as f64 / catch_up
    );
    let before = last_sequence(store).await?;
    paced(store, &bus, offers, "relay-paced").await?;
    let written = events_after(store, before).await?;
    let want = everything + written.len();
    wait_for(
        "paced events in JetStream",
        Duration::from_secs(120),
        || seen.lock().unwrap_or_else(|e| e.into_inner()).len() >= want,
    )
    .await?;
    fleet.stop().await?;
    let lag = lags(&written, &seen.lock().unwrap_or_else(|e| e.into_inner()));
    println!(
        "  relay: commit-to-JetStream lag at {} events/s ({} events; received by a subscriber): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        RATE * 2,
        lag.len(),
        percentile(&lag, 0.5),
        percentile(&lag, 0.99),
        lag.last().copied().unwrap_or(f64::NAN)
    );
    // The floor: the same messages published by a plain loop, each ack awaited.
    let events = events_after(store, 0).await?;
    let floor_subject = format!("{prefix}.floor");
    let started = Instant::now();
    for event in &events {
        let publish = async_nats::jetstream::message::PublishMessage::build()
            .payload(worker::nats_relay::message_body(event).into())
            .message_id(format!("floor-{}", event.id));
        js.send_publish(floor_subject.clone(), publish)
            .await?
            .await?;
    }
    let floor = events.len() as f64 / started.elapsed().as_secs_f64();
    println!(
        "  relay: the floor (a plain async-nats loop, one ack at a time, same messages): {floor:.0} events/s; \
         the relay = {:.2} of it",
        (everything as f64 / catch_up) / floor
    );
    recorder.abort();
    js.delete_stream(&stream).await?;
    Ok(())
}

pub async fn run() -> anyhow::Result<()> {
    println!("== integrations (PostgreSQL; webhooks to a local receiver, the relay to local NATS)");
    let db = fresh_db(Backend::Postgres).await?;
    let store = Store::connect(&db.url, 16).await?;
    store.migrate().await?;
    let flights = catalogue(&store).await?;
    let offers: Vec<OfferRecord> = flights.iter().map(offer).collect();
    webhooks(&store, &offers).await?;
    relay(&store, &offers).await?;
    drop(store);
    drop_db(db).await
}
