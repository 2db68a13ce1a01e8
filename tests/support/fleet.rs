//! A fleet of receiver replicas sharing one idempotency store, and senders
//! that deliver N ids × C copies and retry until they hear `200`: the
//! exactly-once harness of the Redis fault tests.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tower_webhook::idempotency::{IdempotencyLayer, IdempotencyStore, REPLAYED_HEADER};

/// How often each delivery id ran the handler.
pub type Runs = Arc<Mutex<HashMap<String, u32>>>;

pub struct Fleet {
    pub replicas: Vec<SocketAddr>,
    pub layers: Vec<IdempotencyLayer>,
    pub runs: Runs,
}

/// The layer of every replica: keys from `webhook-id`.
pub fn keyed_layer() -> IdempotencyLayer {
    IdempotencyLayer::from_unsigned_header(HeaderName::from_static("webhook-id"))
}

/// One replica per store; the handler counts its runs per id and takes
/// `work` to finish.
pub async fn fleet<S: IdempotencyStore + Clone>(
    stores: Vec<S>,
    lock_ttl: Duration,
    work: Duration,
) -> Fleet {
    let runs = Runs::default();
    let mut replicas = Vec::new();
    let mut layers = Vec::new();
    for store in stores {
        let counted = Arc::clone(&runs);
        let layer = keyed_layer().lock_ttl(lock_ttl).store(store);
        let router = Router::new()
            .route(
                "/hook",
                post(move |headers: HeaderMap| {
                    let id = headers["webhook-id"].to_str().unwrap().to_owned();
                    *counted.lock().unwrap().entry(id).or_default() += 1;
                    async move {
                        tokio::time::sleep(work).await;
                        StatusCode::OK
                    }
                }),
            )
            .layer(layer.clone());
        replicas.push(crate::support::serve(router).await);
        layers.push(layer);
    }
    Fleet {
        replicas,
        layers,
        runs,
    }
}

/// What the senders saw.
#[derive(Debug, Default)]
pub struct Report {
    /// Status (with `r` for a replayed 200, `x` for no answer) → count.
    pub statuses: HashMap<String, u64>,
    /// Copies that never got a `200` within the attempts.
    pub unacknowledged: u64,
    /// Latency of every attempt, in microseconds.
    pub latencies_us: Vec<u64>,
    /// When each id was first acknowledged by a first-time (not replayed)
    /// `200`.
    pub handled_at: HashMap<String, Instant>,
    pub elapsed: Duration,
}

impl Report {
    pub fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies_us.clone();
        sorted.sort_unstable();
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let index = ((sorted.len() - 1) as f64 * p).round() as usize;
        Duration::from_micros(sorted[index])
    }
}

/// Deliver `ids` × `copies` across the replicas, `in_flight` at a time; each
/// copy retries every `pause` (at most `attempts` times) until it hears 200.
/// Copy 1 of every id is sent before copy 2 of any.
pub async fn deliver(
    fleet: &Fleet,
    ids: &[String],
    copies: usize,
    in_flight: usize,
    pause: Duration,
    attempts: u32,
) -> Report {
    let order = (0..copies).flat_map(|copy| (0..ids.len()).map(move |n| (n, copy)));
    deliver_in(fleet, ids, order.collect(), in_flight, pause, attempts).await
}

/// As [`deliver`], but the copies of one id are sent together, each to
/// another replica, as a sender's retries race its first attempt.
pub async fn deliver_together(
    fleet: &Fleet,
    ids: &[String],
    copies: usize,
    in_flight: usize,
    pause: Duration,
    attempts: u32,
) -> Report {
    let order = (0..ids.len()).flat_map(|n| (0..copies).map(move |copy| (n, copy)));
    deliver_in(fleet, ids, order.collect(), in_flight, pause, attempts).await
}

async fn deliver_in(
    fleet: &Fleet,
    ids: &[String],
    order: Vec<(usize, usize)>,
    in_flight: usize,
    pause: Duration,
    attempts: u32,
) -> Report {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let gate = Arc::new(Semaphore::new(in_flight));
    let report = Arc::new(Mutex::new(Report::default()));
    let start = Instant::now();
    let mut tasks = JoinSet::new();
    {
        for (n, copy) in order {
            let id = &ids[n];
            let addr = fleet.replicas[(n + copy) % fleet.replicas.len()];
            let (client, gate, report, id) = (
                client.clone(),
                Arc::clone(&gate),
                Arc::clone(&report),
                id.clone(),
            );
            tasks.spawn(async move {
                for _ in 0..attempts {
                    let answer = {
                        let _permit = gate.acquire().await.unwrap();
                        let request = Request::post(format!("http://{addr}/hook"))
                            .header("webhook-id", &id)
                            .body(Full::new(Bytes::from_static(b"{}")))
                            .unwrap();
                        let sent = Instant::now();
                        let answer = tokio::time::timeout(Duration::from_secs(10), async {
                            let response = client.request(request).await.ok()?;
                            let replayed = response.headers().contains_key(REPLAYED_HEADER);
                            let status = response.status();
                            response.into_body().collect().await.ok()?;
                            Some((status, replayed))
                        })
                        .await
                        .ok()
                        .flatten();
                        let mut report = report.lock().unwrap();
                        report
                            .latencies_us
                            .push(u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX));
                        let label = match answer {
                            Some((status, true)) => format!("{}r", status.as_u16()),
                            Some((status, false)) => status.as_u16().to_string(),
                            None => "x".to_owned(),
                        };
                        *report.statuses.entry(label).or_default() += 1;
                        if let Some((StatusCode::OK, false)) = answer {
                            report
                                .handled_at
                                .entry(id.clone())
                                .or_insert_with(Instant::now);
                        }
                        answer
                    };
                    if matches!(answer, Some((StatusCode::OK, _))) {
                        return;
                    }
                    tokio::time::sleep(pause).await;
                }
                report.lock().unwrap().unacknowledged += 1;
            });
        }
    }
    while tasks.join_next().await.is_some() {}
    let mut report = std::mem::take(&mut *report.lock().unwrap());
    report.elapsed = start.elapsed();
    report
}

/// Ids that ran more than once, and ids that never ran.
pub fn tally(runs: &Runs, ids: &[String]) -> (Vec<(String, u32)>, Vec<String>) {
    let runs = runs.lock().unwrap();
    let doubled = ids
        .iter()
        .filter_map(|id| runs.get(id).filter(|n| **n > 1).map(|n| (id.clone(), *n)))
        .collect();
    let lost = ids
        .iter()
        .filter(|id| !runs.contains_key(*id))
        .cloned()
        .collect();
    (doubled, lost)
}

pub fn ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}_{i:05}")).collect()
}
