//! The Redis store against a real `redis-server`: exactly once across
//! replicas, fail-closed while Redis is down, recovery when it returns.
//!
//! Needs `redis-server` (7.0 or later) on `PATH`; `.ci/run` installs it.
#![cfg(feature = "redis")]

use crate::support;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tower_webhook::idempotency::{IdempotencyLayer, RedisStore};

use support::{is_replayed, post as post_to, send};

/// A `redis-server` of our own, on a free port, without persistence, killed
/// when dropped.
struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
}

impl RedisServer {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("no free port")
            .port();
        let dir =
            std::env::temp_dir().join(format!("tower-webhook-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut server = Self {
            child: None,
            port,
            dir,
        };
        server.restart();
        server
    }

    /// Start (again) on the same port.
    fn restart(&mut self) {
        let binary = find_on_path("redis-server").unwrap_or_else(|| {
            panic!(
                "redis-server not found on PATH: the Redis idempotency tests need it \
                 (apt-get install redis-server, or run .ci/run which installs it)"
            )
        });
        let child = Command::new(binary)
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("could not start redis-server");
        self.child = Some(child);
        // Wait until it accepts connections (bounded: a server that never
        // comes up fails the test here, with this message).
        for _ in 0..200 {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("redis-server did not start on port {}", self.port);
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Send `signal` (`STOP`, `CONT`) to our server process.
    fn signal(&self, signal: &str) {
        let child = self.child.as_ref().expect("redis-server is not running");
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .expect("running kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// One replica: its own server and its own Redis connection.
async fn replica(url: &str, runs: Arc<AtomicUsize>, gate: Option<Arc<Semaphore>>) -> SocketAddr {
    let store = RedisStore::connect(url).await.expect("connecting to Redis");
    let handler = move || {
        let runs = Arc::clone(&runs);
        let gate = gate.clone();
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            if let Some(gate) = gate {
                let _permit = gate.acquire().await.unwrap();
            }
            StatusCode::OK
        }
    };
    let router = Router::new()
        .route("/hook", post(handler))
        .layer(IdempotencyLayer::new().store(store));
    support::serve(router).await
}

fn delivery(addr: SocketAddr, id: &str) -> Request<Full<Bytes>> {
    post_to(addr, "/hook")
        .header("webhook-id", id)
        .body(Full::new(Bytes::from_static(b"{\"type\":\"ping\"}")))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_replicas_sharing_redis_run_the_handler_once() {
    let _heavy = support::heavy().await;
    let redis = RedisServer::start();
    let runs = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Semaphore::new(0));
    let mut replicas = Vec::new();
    for _ in 0..4 {
        replicas.push(replica(&redis.url(), Arc::clone(&runs), Some(Arc::clone(&gate))).await);
    }

    // The first copy, on whichever replica, holds the handler at the gate:
    // every other copy, on every replica, must see it in flight.
    let mut copies = JoinSet::new();
    for n in 0..1000 {
        copies.spawn(send(delivery(replicas[n % 4], "msg_replicas")));
    }
    for _ in 0..999 {
        let reply = copies.join_next().await.unwrap().unwrap();
        assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text());
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    gate.add_permits(100_000);
    let first = copies.join_next().await.unwrap().unwrap();
    assert_eq!(first.status, StatusCode::OK);
    assert!(!is_replayed(&first));

    // Completed: acknowledged on every replica.
    for n in 0..1000 {
        copies.spawn(send(delivery(replicas[n % 4], "msg_replicas")));
    }
    while let Some(reply) = copies.join_next().await {
        let reply = reply.unwrap();
        assert_eq!(reply.status, StatusCode::OK);
        assert!(is_replayed(&reply));
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    // A fresh delivery racing freely across the replicas.
    let (mut handled, mut in_flight, mut acknowledged) = (0, 0, 0);
    for n in 0..1000 {
        copies.spawn(send(delivery(replicas[n % 4], "msg_race")));
    }
    while let Some(reply) = copies.join_next().await {
        let reply = reply.unwrap();
        match (reply.status, is_replayed(&reply)) {
            (StatusCode::OK, false) => handled += 1,
            (StatusCode::CONFLICT, false) => in_flight += 1,
            (StatusCode::OK, true) => acknowledged += 1,
            other => panic!("unexpected reply {other:?}"),
        }
    }
    println!(
        "racing copies on 4 replicas: handled {handled}, 409 {in_flight}, acked {acknowledged}"
    );
    assert_eq!(handled, 1);
    assert_eq!(in_flight + acknowledged, 999);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_fails_closed_and_the_service_recovers() {
    let mut redis = RedisServer::start();
    let runs = Arc::new(AtomicUsize::new(0));
    let addr = replica(&redis.url(), Arc::clone(&runs), None).await;

    assert_eq!(
        send(delivery(addr, "msg_before")).await.status,
        StatusCode::OK
    );
    assert!(is_replayed(&send(delivery(addr, "msg_before")).await));
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    redis.stop();
    for id in ["msg_before", "msg_during", "msg_during"] {
        let reply = send(delivery(addr, id)).await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{id}");
        assert!(reply.headers.contains_key(http::header::RETRY_AFTER));
    }
    // Nothing ran while the store was down.
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    // Same port, same service: the sender's retry gets through once the
    // connection manager has reconnected (it may take a few attempts).
    redis.restart();
    let mut attempts = 0;
    let reply = loop {
        attempts += 1;
        let reply = send(delivery(addr, "msg_during")).await;
        if reply.status != StatusCode::SERVICE_UNAVAILABLE || attempts == 100 {
            break reply;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    println!("recovered after {attempts} attempt(s)");
    assert_eq!(reply.status, StatusCode::OK);
    assert!(!is_replayed(&reply));
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    assert!(is_replayed(&send(delivery(addr, "msg_during")).await));
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_started_while_redis_is_down_refuses_then_recovers() {
    let mut redis = RedisServer::start();
    redis.stop();
    let store = RedisStore::open(&redis.url()).unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let router = Router::new()
        .route(
            "/hook",
            post(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                async { StatusCode::OK }
            }),
        )
        .layer(IdempotencyLayer::new().store(store));
    let addr = support::serve(router).await;

    let reply = send(delivery(addr, "msg_lazy")).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(runs.load(Ordering::SeqCst), 0);

    redis.restart();
    let mut reply = send(delivery(addr, "msg_lazy")).await;
    for _ in 0..100 {
        if reply.status != StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        reply = send(delivery(addr, "msg_lazy")).await;
    }
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_redis_is_answered_with_503_not_a_hang() {
    let redis = RedisServer::start();
    let runs = Arc::new(AtomicUsize::new(0));
    let addr = replica(&redis.url(), Arc::clone(&runs), None).await;
    assert_eq!(
        send(delivery(addr, "msg_frozen")).await.status,
        StatusCode::OK
    );

    // SIGSTOP: the socket stays open but nothing answers, the case a
    // connection-refused test cannot show. The store's operation timeout
    // turns it into a 503 (support::send itself gives up after 20 s).
    redis.signal("STOP");
    let reply = send(delivery(addr, "msg_frozen_2")).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    redis.signal("CONT");
    let mut reply = send(delivery(addr, "msg_frozen_2")).await;
    for _ in 0..100 {
        if reply.status != StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        reply = send(delivery(addr, "msg_frozen_2")).await;
    }
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}
