//! The inbox measured: what the sender waits with a slow handler, how many
//! deliveries per second each backend carries, and the full exactly-once
//! run (10,000 deliveries × 3 copies over 3 replicas).
//!
//! ```text
//! cargo run --release --example inbox_bench --features inbox-sqlite,redis -- [deliveries]
//! ```
//!
//! Needs `redis-server` on the PATH (started here, AOF with
//! `appendfsync always`, in a temporary directory). Every route is the
//! GitHub bundle (signature and idempotency) with a signed delivery, so
//! the figures include the protections. Prints Markdown rows for
//! BENCHMARKS.md. A measurement, not a test: nothing is asserted except
//! that every delivery ran exactly once.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::sync::Semaphore;
use tower::ServiceBuilder;
use tower_webhook::inbox::{
    Delivery, Inbox, InboxLayer, MemoryInbox, RedisInbox, SqliteInbox, Worker,
};
use tower_webhook::signature::{Outgoing, Signer};
use tower_webhook::{Secret, WebhookStack};

const SECRET: &str = "inbox-bench-github-secret-77a1";
const HANDLER: Duration = Duration::from_millis(200);

type Runs = Arc<Mutex<HashMap<Bytes, u32>>>;

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    addr
}

fn stack() -> tower_webhook::WebhookLayer {
    WebhookStack::github(Secret::new(SECRET).unwrap())
        .build()
        .unwrap()
}

/// The handler inside the request: 200 ms of work before the answer.
fn inline_app() -> Router {
    Router::new().route(
        "/hook",
        post(|| async {
            tokio::time::sleep(HANDLER).await;
            StatusCode::OK
        })
        .layer(stack()),
    )
}

fn inbox_app(inbox: Arc<dyn Inbox>) -> Router {
    Router::new().route(
        "/hook",
        post(|| async { StatusCode::NOT_FOUND }).layer(
            ServiceBuilder::new()
                .layer(stack())
                .layer(InboxLayer::new(inbox)),
        ),
    )
}

fn signed(i: usize) -> (HeaderMap, Bytes) {
    let body = Bytes::from(format!(
        r#"{{"id":"evt-{i}","action":"opened","pad":"{}"}}"#,
        "x".repeat(400)
    ));
    let headers = Signer::preset("github", SECRET)
        .unwrap()
        .sign(&Outgoing::new(&body, 0, "x"))
        .unwrap()
        .into_iter()
        .collect();
    (headers, body)
}

/// Send `deliveries` (ids `offset..`), `copies` of each, round-robin over
/// `targets`, from `concurrency` senders. The latency of each request and
/// the statuses.
async fn send(
    targets: &[SocketAddr],
    offset: usize,
    deliveries: usize,
    copies: usize,
    concurrency: usize,
) -> (Vec<Duration>, HashMap<u16, usize>) {
    let client = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(concurrency)
        .build_http::<Full<Bytes>>();
    let permits = Arc::new(Semaphore::new(concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    for i in offset..offset + deliveries {
        let (headers, body) = signed(i);
        for copy in 0..copies {
            let permit = Arc::clone(&permits).acquire_owned().await.unwrap();
            let addr = targets[(i + copy) % targets.len()];
            let (client, headers, body) = (client.clone(), headers.clone(), body.clone());
            tasks.spawn(async move {
                let mut request = http::Request::post(format!("http://{addr}/hook"))
                    .body(Full::new(body))
                    .unwrap();
                *request.headers_mut() = headers;
                let started = Instant::now();
                let status = match client.request(request).await {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let _ = response.into_body().collect().await;
                        status
                    }
                    Err(_) => 0,
                };
                drop(permit);
                (started.elapsed(), status)
            });
        }
    }
    let mut latencies = Vec::new();
    let mut statuses = HashMap::new();
    while let Some(done) = tasks.join_next().await {
        let (latency, status) = done.unwrap();
        latencies.push(latency);
        *statuses.entry(status).or_default() += 1;
    }
    latencies.sort();
    (latencies, statuses)
}

fn pick(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn worker(inbox: Arc<dyn Inbox>, runs: &Runs, work: Duration, concurrency: usize) -> Worker {
    let runs = Arc::clone(runs);
    Worker::from_fn(inbox, move |delivery: Delivery| {
        *runs
            .lock()
            .unwrap()
            .entry(delivery.body.clone())
            .or_default() += 1;
        async move {
            if !work.is_zero() {
                tokio::time::sleep(work).await;
            }
            Ok::<_, std::convert::Infallible>(())
        }
    })
    .concurrency(concurrency)
    .poll_interval(Duration::from_millis(5))
}

struct Redis {
    child: Child,
    dir: PathBuf,
    url: String,
}

impl Redis {
    fn start() -> Self {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let dir = std::env::temp_dir().join(format!("inbox-bench-redis-{port}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "yes", "--appendfsync", "always"])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server on the PATH");
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        Self {
            child,
            dir,
            url: format!("redis://127.0.0.1:{port}/"),
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn wait_drained(inbox: &dyn Inbox) {
    loop {
        let stats = inbox.stats().await.unwrap();
        if stats.depth == 0 && stats.in_flight == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::main]
async fn main() {
    let deliveries: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let redis = Redis::start();
    let sqlite_dir = std::env::temp_dir().join(format!("inbox-bench-{}", std::process::id()));
    std::fs::create_dir_all(&sqlite_dir).unwrap();

    // 1. What the sender waits, with a 200 ms handler: 400 deliveries
    //    from 20 senders (the handler's concurrency is not the limit of
    //    the inline route: each request runs its own).
    println!("## sender latency, 200 ms handler, 400 deliveries, 20 concurrent senders\n");
    println!("| route | p50 | p99 | statuses |\n|---|---|---|---|");
    let inline = serve(inline_app()).await;
    let _ = send(&[inline], 1_000_000, 40, 1, 20).await;
    let (latencies, statuses) = send(&[inline], 0, 400, 1, 20).await;
    println!(
        "| inline handler | {} | {} | {statuses:?} |",
        ms(pick(&latencies, 0.5)),
        ms(pick(&latencies, 0.99))
    );
    let backends: Vec<(&str, Arc<dyn Inbox>)> = vec![
        ("inbox: memory", Arc::new(MemoryInbox::new())),
        (
            "inbox: SQLite (WAL, synchronous=FULL)",
            Arc::new(SqliteInbox::open(sqlite_dir.join("latency.db")).unwrap()),
        ),
        (
            "inbox: Redis (AOF, appendfsync always)",
            Arc::new(
                RedisInbox::connect_with_prefix(&redis.url, "latency")
                    .await
                    .unwrap(),
            ),
        ),
    ];
    for (name, inbox) in &backends {
        let runs = Runs::default();
        let handle = worker(Arc::clone(inbox), &runs, HANDLER, 64).spawn();
        let addr = serve(inbox_app(Arc::clone(inbox))).await;
        let _ = send(&[addr], 1_000_000, 40, 1, 20).await;
        let (latencies, statuses) = send(&[addr], 0, 400, 1, 20).await;
        println!(
            "| {name} | {} | {} | {statuses:?} |",
            ms(pick(&latencies, 0.5)),
            ms(pick(&latencies, 0.99))
        );
        wait_drained(inbox.as_ref()).await;
        handle.shutdown().await;
    }

    // 2. Deliveries per second through each backend: `deliveries` sent by
    //    32 senders to one replica, a worker (concurrency 16, no-op
    //    handler) draining at the same time; from the first send to the
    //    last completion.
    println!("\n## deliveries per second, {deliveries} deliveries, one replica, 32 senders, no-op handler\n");
    println!("| backend | enqueued/s (HTTP, sender side) | processed/s (end to end) | enqueue p50 | enqueue p99 |\n|---|---|---|---|---|");
    let backends: Vec<(&str, Arc<dyn Inbox>)> = vec![
        ("memory", Arc::new(MemoryInbox::new())),
        (
            "SQLite (WAL, synchronous=FULL)",
            Arc::new(SqliteInbox::open(sqlite_dir.join("throughput.db")).unwrap()),
        ),
        (
            "Redis (AOF, appendfsync always)",
            Arc::new(
                RedisInbox::connect_with_prefix(&redis.url, "throughput")
                    .await
                    .unwrap(),
            ),
        ),
    ];
    for (name, inbox) in &backends {
        let runs = Runs::default();
        let addr = serve(inbox_app(Arc::clone(inbox))).await;
        let handle = worker(Arc::clone(inbox), &runs, Duration::ZERO, 16).spawn();
        let started = Instant::now();
        let (latencies, statuses) = send(&[addr], 0, deliveries, 1, 32).await;
        let sent = started.elapsed();
        wait_drained(inbox.as_ref()).await;
        let processed = started.elapsed();
        handle.shutdown().await;
        let ran = runs.lock().unwrap().len();
        assert_eq!(ran, deliveries, "{name}: {statuses:?}");
        println!(
            "| {name} | {:.0} | {:.0} | {} | {} |",
            deliveries as f64 / sent.as_secs_f64(),
            deliveries as f64 / processed.as_secs_f64(),
            ms(pick(&latencies, 0.5)),
            ms(pick(&latencies, 0.99)),
        );
    }

    // 3. Exactly once: `deliveries` × 3 copies over 3 replicas sharing the
    //    Redis inbox, a worker on each.
    println!("\n## exactly once: {deliveries} deliveries x 3 copies over 3 replicas (Redis)\n");
    let runs = Runs::default();
    let mut replicas = Vec::new();
    let mut workers = Vec::new();
    for _ in 0..3 {
        let inbox: Arc<dyn Inbox> = Arc::new(
            RedisInbox::connect_with_prefix(&redis.url, "replicas")
                .await
                .unwrap(),
        );
        replicas.push(serve(inbox_app(Arc::clone(&inbox))).await);
        workers.push(worker(inbox, &runs, Duration::ZERO, 8).spawn());
    }
    let started = Instant::now();
    let (_, statuses) = send(&replicas, 0, deliveries, 3, 48).await;
    let probe = RedisInbox::connect_with_prefix(&redis.url, "replicas")
        .await
        .unwrap();
    wait_drained(&probe).await;
    let elapsed = started.elapsed();
    for worker in workers {
        worker.shutdown().await;
    }
    let runs = runs.lock().unwrap();
    let once = runs.values().filter(|&&n| n == 1).count();
    let more = runs.values().filter(|&&n| n > 1).count();
    println!(
        "{} requests in {:.1} s, statuses {statuses:?}; deliveries handled once: {once}, more than once: {more}, never: {}",
        deliveries * 3,
        elapsed.as_secs_f64(),
        deliveries - runs.len(),
    );
    assert_eq!((once, more), (deliveries, 0));
    let _ = std::fs::remove_dir_all(&sqlite_dir);
}
