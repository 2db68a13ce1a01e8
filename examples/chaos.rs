//! Exactly once under faults, against your own Redis.
//!
//! Starts K receiver replicas on 127.0.0.1 sharing one `RedisStore`, sends
//! N delivery ids × C copies across them (each copy retries until it hears
//! `200`, like a webhook sender), optionally SIGKILLs or SIGSTOPs a Redis
//! process of yours mid-run, and prints what happened: double runs, lost
//! deliveries, the status mix, throughput, p50/p99, and the layer's
//! counters.
//!
//! ```text
//! REDIS_URL=redis://127.0.0.1:6379/ cargo run --release --features redis --example chaos -- \
//!     --replicas 4 --ids 20000 --copies 3 --in-flight 64 \
//!     [--signal STOP --pid $(pidof redis-server) --fault-after-ms 2000 --fault-for-ms 3000]
//! ```
//!
//! With `--signal KILL`, restart Redis yourself (or let systemd/docker do it)
//! while the run goes on; copies retry for `--give-up-after-s` (60 s).
//! Keys go under a fresh prefix (`tower-webhook:chaos:<random>:`), expire
//! with the TTL (`--ttl-s`, 600 s), and touch nothing else. Only point it at
//! a Redis you own.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tower_webhook::idempotency::{
    IdempotencyCounts, IdempotencyLayer, RedisOptions, REPLAYED_HEADER,
};

struct Settings {
    url: String,
    replicas: usize,
    ids: usize,
    copies: usize,
    in_flight: usize,
    work: Duration,
    lock_ttl: Duration,
    ttl: Duration,
    timeout: Duration,
    wait_replicas: u32,
    signal: Option<String>,
    pid: Option<u32>,
    fault_after: Duration,
    fault_for: Duration,
    give_up_after: Duration,
}

fn settings() -> Result<Settings, String> {
    let mut args: HashMap<String, String> = HashMap::new();
    let mut raw = std::env::args().skip(1);
    while let Some(name) = raw.next() {
        let Some(name) = name.strip_prefix("--") else {
            return Err(format!("unexpected argument {name:?}"));
        };
        let value = raw.next().ok_or(format!("--{name} needs a value"))?;
        args.insert(name.to_owned(), value);
    }
    let number = |name: &str, default: u64| -> Result<u64, String> {
        args.get(name)
            .map(|v| {
                v.parse()
                    .map_err(|_| format!("--{name}: not a number: {v:?}"))
            })
            .unwrap_or(Ok(default))
    };
    let millis = |name: &str, default: u64| number(name, default).map(Duration::from_millis);
    let signal = args.get("signal").map(|s| s.to_ascii_uppercase());
    if let Some(signal) = &signal {
        if !matches!(signal.as_str(), "KILL" | "STOP") {
            return Err("--signal is KILL or STOP".into());
        }
    }
    let pid = args
        .get("pid")
        .map(|p| p.parse().map_err(|_| format!("--pid: not a pid: {p:?}")))
        .transpose()?;
    if signal.is_some() != pid.is_some() {
        return Err("--signal and --pid go together".into());
    }
    Ok(Settings {
        url: std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into()),
        replicas: number("replicas", 4)?.max(1) as usize,
        ids: number("ids", 2000)? as usize,
        copies: number("copies", 3)?.max(1) as usize,
        in_flight: number("in-flight", 64)?.max(1) as usize,
        work: millis("work-ms", 10)?,
        lock_ttl: millis("lock-ttl-ms", 10_000)?,
        ttl: Duration::from_secs(number("ttl-s", 600)?),
        timeout: millis("timeout-ms", 1000)?,
        wait_replicas: u32::try_from(number("wait-replicas", 0)?).unwrap_or(u32::MAX),
        signal,
        pid,
        fault_after: millis("fault-after-ms", 2000)?,
        fault_for: millis("fault-for-ms", 3000)?,
        give_up_after: Duration::from_secs(number("give-up-after-s", 60)?),
    })
}

type Runs = Arc<Mutex<HashMap<String, u32>>>;

async fn replica(layer: IdempotencyLayer, runs: Runs, work: Duration) -> SocketAddr {
    let router = Router::new()
        .route(
            "/hook",
            post(move |headers: HeaderMap| {
                let id = headers
                    .get("webhook-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                *runs.lock().unwrap().entry(id).or_default() += 1;
                async move {
                    tokio::time::sleep(work).await;
                    StatusCode::OK
                }
            }),
        )
        .layer(layer);
    // Loopback only: the receivers are for this run's senders.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

fn signal(pid: u32, signal: &str) {
    match Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
    {
        Ok(status) if status.success() => println!("sent SIG{signal} to {pid}"),
        other => eprintln!("kill -{signal} {pid} failed: {other:?}"),
    }
}

#[derive(Default)]
struct Seen {
    statuses: HashMap<String, u64>,
    latencies_us: Vec<u64>,
    unacknowledged: u64,
}

#[tokio::main]
async fn main() {
    let settings = match settings() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("{error}\n(see the header of examples/chaos.rs for the options)");
            std::process::exit(2);
        }
    };
    let mut random = [0u8; 6];
    getrandom::fill(&mut random).expect("OS randomness");
    let prefix = format!("tower-webhook:chaos:{}:", hex::encode(random));

    let runs = Runs::default();
    let mut layers = Vec::new();
    let mut replicas = Vec::new();
    for _ in 0..settings.replicas {
        let mut options = RedisOptions::new()
            .key_prefix(&prefix)
            .response_timeout(settings.timeout)
            .connect_timeout(settings.timeout);
        if settings.wait_replicas > 0 {
            options = options.wait_for_replicas(settings.wait_replicas, settings.timeout);
        }
        let store = match options.connect(&settings.url).await {
            Ok(store) => store,
            Err(error) => {
                eprintln!("cannot reach Redis at REDIS_URL: {error}");
                std::process::exit(1);
            }
        };
        let layer = IdempotencyLayer::from_unsigned_header(HeaderName::from_static("webhook-id"))
            .store(store)
            .lock_ttl(settings.lock_ttl)
            .ttl(settings.ttl);
        replicas.push(replica(layer.clone(), Arc::clone(&runs), settings.work).await);
        layers.push(layer);
    }
    println!(
        "{} replicas, {} ids x {} copies, {} in flight, handler {:?}, lock TTL {:?}, prefix {prefix}",
        settings.replicas,
        settings.ids,
        settings.copies,
        settings.in_flight,
        settings.work,
        settings.lock_ttl
    );

    if let (Some(name), Some(pid)) = (settings.signal.clone(), settings.pid) {
        let (after, length) = (settings.fault_after, settings.fault_for);
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            signal(pid, &name);
            if name == "STOP" {
                tokio::time::sleep(length).await;
                signal(pid, "CONT");
            }
        });
    }

    let ids: Vec<String> = (0..settings.ids).map(|i| format!("chaos_{i:07}")).collect();
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let gate = Arc::new(Semaphore::new(settings.in_flight));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let start = Instant::now();
    let deadline = start + settings.give_up_after;
    let mut senders = JoinSet::new();
    for copy in 0..settings.copies {
        for (n, id) in ids.iter().enumerate() {
            let addr = replicas[(n + copy) % replicas.len()];
            let (client, gate, seen, id) = (
                client.clone(),
                Arc::clone(&gate),
                Arc::clone(&seen),
                id.clone(),
            );
            senders.spawn(async move {
                while Instant::now() < deadline {
                    let permit = gate.acquire().await.unwrap();
                    let request = Request::post(format!("http://{addr}/hook"))
                        .header("webhook-id", &id)
                        .body(Full::new(Bytes::from_static(b"{}")))
                        .unwrap();
                    let sent = Instant::now();
                    let answer = tokio::time::timeout(Duration::from_secs(30), async {
                        let response = client.request(request).await.ok()?;
                        let replayed = response.headers().contains_key(REPLAYED_HEADER);
                        let status = response.status();
                        response.into_body().collect().await.ok()?;
                        Some((status, replayed))
                    })
                    .await
                    .ok()
                    .flatten();
                    drop(permit);
                    {
                        let mut seen = seen.lock().unwrap();
                        seen.latencies_us
                            .push(u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX));
                        let label = match answer {
                            Some((status, true)) => format!("{} replayed", status.as_u16()),
                            Some((status, false)) => status.as_u16().to_string(),
                            None => "no answer".into(),
                        };
                        *seen.statuses.entry(label).or_default() += 1;
                    }
                    if matches!(answer, Some((StatusCode::OK, _))) {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                seen.lock().unwrap().unacknowledged += 1;
            });
        }
    }
    while senders.join_next().await.is_some() {}
    let elapsed = start.elapsed();

    let runs = runs.lock().unwrap();
    let doubled: Vec<_> = runs.iter().filter(|(_, n)| **n > 1).collect();
    let lost = ids.iter().filter(|id| !runs.contains_key(*id)).count();
    let mut seen = seen.lock().unwrap();
    seen.latencies_us.sort_unstable();
    let percentile = |p: f64| {
        let index = ((seen.latencies_us.len().max(1) - 1) as f64 * p).round() as usize;
        Duration::from_micros(seen.latencies_us.get(index).copied().unwrap_or(0))
    };
    let attempts = seen.latencies_us.len();
    println!(
        "\nelapsed {elapsed:?}: {attempts} requests, {:.0}/s; deliveries {:.0}/s",
        attempts as f64 / elapsed.as_secs_f64(),
        settings.ids as f64 / elapsed.as_secs_f64()
    );
    println!(
        "latency p50 {:?}, p99 {:?}",
        percentile(0.5),
        percentile(0.99)
    );
    let mut statuses: Vec<_> = seen.statuses.iter().collect();
    statuses.sort();
    println!("status mix: {statuses:?}");
    println!(
        "double runs: {} ids{}",
        doubled.len(),
        if doubled.is_empty() {
            String::new()
        } else {
            format!(" (e.g. {:?})", &doubled[..doubled.len().min(5)])
        }
    );
    println!("lost deliveries (never ran): {lost}");
    println!(
        "copies never acknowledged within {:?}: {}",
        settings.give_up_after, seen.unacknowledged
    );
    let total =
        layers
            .iter()
            .map(|l| l.counts())
            .fold(IdempotencyCounts::default(), |mut sum, c| {
                sum.completed += c.completed;
                sum.released += c.released;
                sum.cancelled += c.cancelled;
                sum.panicked += c.panicked;
                sum.renewals += c.renewals;
                sum.renewal_failures += c.renewal_failures;
                sum.leases_lost += c.leases_lost;
                sum.completion_retries += c.completion_retries;
                sum.completions_lost += c.completions_lost;
                sum.takeovers += c.takeovers;
                sum
            });
    println!("layer counters: {total:?}");
    if !doubled.is_empty() || lost > 0 {
        std::process::exit(1);
    }
}
