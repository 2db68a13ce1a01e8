//! Exactly once while Redis fails under running handlers: SIGKILL of an
//! AOF-persisted server, SIGSTOP longer than the lock TTL, a panicking
//! handler and a client that hangs up. Real `redis-server` processes the
//! tests start themselves (`.ci/run` installs them).
#![cfg(feature = "redis")]

use crate::fleet;
use crate::redis_server;
use crate::support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower_webhook::idempotency::{RedisOptions, RedisStore};

use fleet::{deliver, fleet, ids, keyed_layer, tally};
use redis_server::RedisProcess;

/// Wait until `handled` ids have started their handler, so the fault hits
/// a run in progress whatever the machine's speed.
async fn progress(runs: &fleet::Runs, handled: usize) {
    while runs.lock().unwrap().len() < handled {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn stores(url: &str, n: usize, timeout: Duration) -> Vec<RedisStore> {
    let mut stores = Vec::new();
    for _ in 0..n {
        stores.push(
            RedisOptions::new()
                .response_timeout(timeout)
                .connect_timeout(timeout)
                .connect(url)
                .await
                .expect("connecting to Redis"),
        );
    }
    stores
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_of_an_aof_redis_while_handlers_run_runs_nothing_twice() {
    let _heavy = support::heavy().await;
    // `always`: every write is in the log before Redis acknowledges it. With
    // `everysec` a busy disk makes Redis postpone its log writes for up to
    // 2 s while still acknowledging them, and a SIGKILL then loses
    // completions Redis said it had (see `Persistence::append_only`).
    let mut redis = RedisProcess::start(&["--appendonly", "yes", "--appendfsync", "always"]);
    let replicas = fleet(
        stores(&redis.url(), 3, Duration::from_millis(500)).await,
        Duration::from_secs(2),
        Duration::from_millis(50),
    )
    .await;
    let ids = ids("kill", 300);

    let chaos = async {
        progress(&replicas.runs, ids.len() / 3).await;
        redis.kill();
        tokio::time::sleep(Duration::from_millis(500)).await;
        // Same port, same directory: the AOF is replayed.
        redis.restart();
    };
    let (report, ()) = tokio::join!(
        deliver(&replicas, &ids, 3, 48, Duration::from_millis(100), 300),
        chaos
    );
    let (doubled, lost) = tally(&replicas.runs, &ids);
    let counts: Vec<_> = replicas.layers.iter().map(|l| l.counts()).collect();
    println!(
        "SIGKILL: {:?} in {:?}, p50 {:?} p99 {:?}; counters {counts:?}",
        report.statuses,
        report.elapsed,
        report.percentile(0.5),
        report.percentile(0.99)
    );
    assert_eq!(report.unacknowledged, 0, "{report:?}");
    assert!(doubled.is_empty(), "ran twice: {doubled:?}");
    assert!(lost.is_empty(), "never ran: {lost:?}");
    // The fault was felt: completions had to be retried, or copies were
    // refused while Redis was down.
    let retried: u64 = counts.iter().map(|c| c.completion_retries).sum();
    assert!(retried > 0 || report.statuses.keys().any(|s| s != "200" && s != "200r"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigstop_longer_than_the_lock_ttl_runs_nothing_twice() {
    let _heavy = support::heavy().await;
    let redis = RedisProcess::start(&["--appendonly", "yes"]);
    let lock_ttl = Duration::from_secs(1);
    let replicas = fleet(
        stores(&redis.url(), 3, Duration::from_millis(300)).await,
        lock_ttl,
        Duration::from_millis(100),
    )
    .await;
    let ids = ids("stop", 200);

    let chaos = async {
        progress(&replicas.runs, ids.len() / 4).await;
        redis.signal("STOP");
        // Well past the lock TTL: every lease in Redis has expired when it
        // wakes up.
        tokio::time::sleep(lock_ttl * 5 / 2).await;
        redis.signal("CONT");
    };
    let (report, ()) = tokio::join!(
        deliver(&replicas, &ids, 3, 48, Duration::from_millis(100), 300),
        chaos
    );
    let (doubled, lost) = tally(&replicas.runs, &ids);
    let counts: Vec<_> = replicas.layers.iter().map(|l| l.counts()).collect();
    println!(
        "SIGSTOP {:?}: {:?} in {:?}, p50 {:?} p99 {:?}; counters {counts:?}",
        lock_ttl * 5 / 2,
        report.statuses,
        report.elapsed,
        report.percentile(0.5),
        report.percentile(0.99)
    );
    assert_eq!(report.unacknowledged, 0, "{report:?}");
    assert!(doubled.is_empty(), "ran twice: {doubled:?}");
    assert!(lost.is_empty(), "never ran: {lost:?}");
    assert!(report.statuses.contains_key("503"), "{report:?}");
}

/// The sender's retry, every 100 ms for at most a second, until it runs.
async fn retry_within_a_second(addr: std::net::SocketAddr, id: &str) -> (StatusCode, u32) {
    for attempt in 1..=10 {
        let reply = support::send(
            support::post(addr, "/hook")
                .header("webhook-id", id)
                .body(Full::new(Bytes::from_static(b"{}")))
                .unwrap(),
        )
        .await;
        if reply.status != StatusCode::CONFLICT {
            return (reply.status, attempt);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (StatusCode::CONFLICT, 10)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_a_panic_or_a_hang_up_releases_the_delivery_at_once() {
    let redis = RedisProcess::start(&[]);
    let store = RedisStore::connect(&redis.url()).await.unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let layer = keyed_layer().store(store);
    let router = Router::new()
        .route(
            "/hook",
            post(move |headers: http::HeaderMap| {
                let run = counted.fetch_add(1, Ordering::SeqCst);
                async move {
                    match (headers["webhook-id"].to_str().unwrap(), run) {
                        ("msg_panic", 0) => panic!("the handler fails"),
                        ("msg_hang_up", 2) => std::future::pending::<()>().await,
                        _ => {}
                    }
                    StatusCode::OK
                }
            }),
        )
        .layer(layer.clone());
    let addr = support::serve(router).await;
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let request = |id: &str| {
        Request::post(format!("http://{addr}/hook"))
            .header("webhook-id", id)
            .body(Full::new(Bytes::from_static(b"{}")))
            .unwrap()
    };

    assert!(client.request(request("msg_panic")).await.is_err());
    let (status, attempts) = retry_within_a_second(addr, "msg_panic").await;
    assert_eq!(status, StatusCode::OK, "after {attempts} attempt(s)");
    assert_eq!(runs.load(Ordering::SeqCst), 2);

    let hung_up = tokio::time::timeout(
        Duration::from_millis(300),
        client.request(request("msg_hang_up")),
    )
    .await;
    assert!(hung_up.is_err());
    drop(client);
    let (status, attempts) = retry_within_a_second(addr, "msg_hang_up").await;
    assert_eq!(status, StatusCode::OK, "after {attempts} attempt(s)");
    assert_eq!(runs.load(Ordering::SeqCst), 4);

    let counts = layer.counts();
    assert_eq!(
        (counts.panicked, counts.cancelled, counts.completed),
        (1, 1, 2)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_above_one_second_is_honoured() {
    use tower_webhook::idempotency::{IdempotencyStore, Reservation};

    let redis = RedisProcess::start(&[]);
    let store = RedisStore::open(&redis.url())
        .unwrap()
        .timeout(Duration::from_secs(4));
    assert!(matches!(
        store.reserve("warm-up", Duration::from_secs(5)).await,
        Ok(Reservation::Acquired(_))
    ));
    // A stall of 1.5 s: longer than the connection's old fixed response
    // timeout (1 s), well inside the store's 4 s.
    redis.signal("STOP");
    let reserve = tokio::spawn({
        let store = store.clone();
        async move { store.reserve("slow", Duration::from_secs(5)).await }
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    redis.signal("CONT");
    let reserved = reserve.await.unwrap();
    assert!(
        matches!(reserved, Ok(Reservation::Acquired(_))),
        "{reserved:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_reads_whether_redis_persists_completions() {
    let volatile = RedisProcess::start(&[]);
    let store = RedisStore::connect(&volatile.url()).await.unwrap();
    let persistence = store.persistence().await.unwrap();
    assert!(!persistence.survives_restart());
    assert_eq!(persistence.snapshots, Some(false));

    let durable = RedisProcess::start(&["--appendonly", "yes"]);
    let store = RedisStore::connect(&durable.url()).await.unwrap();
    assert!(store.persistence().await.unwrap().survives_restart());
}
