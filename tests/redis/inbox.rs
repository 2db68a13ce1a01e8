//! The durable inbox (`tower_webhook::inbox`) end to end: real HTTP servers
//! on 127.0.0.1, real `redis-server` processes and SQLite files, and child
//! processes (this test binary run again with `INBOX_CHILD` set) that are
//! killed with SIGKILL mid-work.
#![cfg(all(feature = "inbox-sqlite", feature = "redis", feature = "cli"))]

use crate::redis_server;
use crate::support;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::unix_now;

use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode};
use tokio::sync::Semaphore;
use tower::ServiceBuilder;
use tower_webhook::inbox::{
    Delivery, Inbox, InboxError, InboxLayer, MemoryInbox, RedisInbox, SqliteInbox, Worker,
    WorkerHandle,
};
use tower_webhook::{Secret, WebhookStack};

use redis_server::RedisProcess;

const SECRET: &str = "inbox-test-github-secret-5b3c";

/// A replica: the GitHub bundle, then the inbox in place of the handler.
fn app(inbox: Arc<dyn Inbox>) -> Router {
    let stack = WebhookStack::github(Secret::new(SECRET).unwrap())
        .build()
        .unwrap();
    Router::new().route(
        "/hooks/github",
        post(|| async { StatusCode::NOT_FOUND }).layer(
            ServiceBuilder::new()
                .layer(stack)
                .layer(InboxLayer::new(inbox)),
        ),
    )
}

fn delivery_body(id: &str) -> Vec<u8> {
    format!(r#"{{"id":"{id}","action":"opened"}}"#).into_bytes()
}

fn github_headers(body: &[u8]) -> Vec<(HeaderName, HeaderValue)> {
    let mut headers = support::signed_headers("github", SECRET, body, 0, "unused");
    headers.push((
        HeaderName::from_static("x-github-event"),
        HeaderValue::from_static("pull_request"),
    ));
    headers
}

/// Send the signed delivery `id` to `addr`; its status.
async fn deliver(addr: SocketAddr, id: &str) -> StatusCode {
    let body = delivery_body(id);
    support::post_with(addr, "/hooks/github", &github_headers(&body), &body)
        .await
        .status
}

/// The `id` field of a delivery's body.
fn id_of(delivery: &Delivery) -> String {
    let json: serde_json::Value = serde_json::from_slice(&delivery.body).unwrap();
    json["id"].as_str().unwrap().to_owned()
}

/// How often the handler ran per delivery id.
type Runs = Arc<Mutex<HashMap<String, u32>>>;

fn counting_worker(inbox: Arc<dyn Inbox>, runs: &Runs) -> Worker {
    let runs = Arc::clone(runs);
    Worker::from_fn(inbox, move |delivery: Delivery| {
        *runs.lock().unwrap().entry(id_of(&delivery)).or_default() += 1;
        async { Ok::<_, std::convert::Infallible>(()) }
    })
}

/// Wait (polling) until `done` holds. The two minutes are no timing
/// claim, only a guard so that a regression fails instead of hanging.
async fn until(mut done: impl FnMut() -> bool) {
    let guard = std::time::Instant::now();
    while !done() {
        assert!(guard.elapsed() < Duration::from_secs(120), "never happened");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn temp_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tower-webhook-inbox-{}-{name}-{}",
        std::process::id(),
        unix_now()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("inbox.db")
}

// ---------------------------------------------------------------------
// Child processes: this binary, run again on one test with INBOX_CHILD.
// ---------------------------------------------------------------------

/// A child process of this test binary, with its stdout lines that start
/// with `INBOX:` collected; killed (SIGKILL) when dropped.
struct ChildProcess {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl ChildProcess {
    fn start(role: &str, file: &Path) -> Self {
        // The test's name in this binary: its module path without the crate.
        let test = module_path!()
            .split_once("::")
            .map_or("child_process".to_owned(), |(_, module)| {
                format!("{module}::child_process")
            });
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", &test, "--nocapture", "--test-threads=1"])
            .env("INBOX_CHILD", role)
            .env("INBOX_FILE", file)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().unwrap();
        let collected = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // libtest may have started the line ("test child_process ... ").
                if let Some(at) = line.find("INBOX:") {
                    collected.lock().unwrap().push(line[at + 6..].to_owned());
                }
            }
        });
        Self { child, lines }
    }

    async fn line(&self, prefix: &str) -> String {
        loop {
            if let Some(line) = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.starts_with(prefix))
            {
                return line[prefix.len()..].to_owned();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The child side: a no-op unless this binary was started as a child.
#[test]
fn child_process() {
    let Ok(role) = std::env::var("INBOX_CHILD") else {
        return;
    };
    let file = PathBuf::from(std::env::var("INBOX_FILE").unwrap());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let inbox: Arc<dyn Inbox> = Arc::new(SqliteInbox::open(&file).unwrap());
        match role.as_str() {
            // A worker whose handler announces the delivery, then works
            // "forever": the parent kills it mid-handler.
            "worker" => {
                let _worker = Worker::from_fn(inbox, |delivery: Delivery| async move {
                    println!("INBOX:started {}", id_of(&delivery));
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    Ok::<_, std::convert::Infallible>(())
                })
                .lease(Duration::from_secs(1))
                .spawn();
                std::future::pending::<()>().await;
            }
            // A receiver writing to the inbox file: the parent kills it
            // while deliveries arrive.
            "receiver" => {
                let addr = support::serve(app(inbox)).await;
                println!("INBOX:listening {addr}");
                std::future::pending::<()>().await;
            }
            other => panic!("unknown child role {other}"),
        }
    });
}

// ---------------------------------------------------------------------
// The layer
// ---------------------------------------------------------------------

/// A verified delivery is answered 202 at once and reaches the handler
/// once, with the verification facts and the headers it needs; a copy adds
/// nothing; a forged one is refused before the inbox.
#[tokio::test]
async fn a_verified_delivery_is_acknowledged_then_handled_once() {
    let inbox = Arc::new(MemoryInbox::new());
    let addr = support::serve(app(inbox.clone())).await;

    // With a credential a proxy added: not for the inbox to store.
    let body = delivery_body("d1");
    let mut headers = github_headers(&body);
    headers.push((
        http::header::AUTHORIZATION,
        HeaderValue::from_static("Bearer proxy-credential"),
    ));
    let first = support::post_with(addr, "/hooks/github", &headers, &body).await;
    assert_eq!(first.status, StatusCode::ACCEPTED);

    // A copy: the bundle's idempotency layer acknowledges it (200).
    assert!(deliver(addr, "d1").await.is_success(), "a copy");
    let body = delivery_body("forged");
    let mut headers = github_headers(&body);
    headers[0].1 = HeaderValue::from_static("sha256=00");
    let forged = support::post_with(addr, "/hooks/github", &headers, &body).await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    assert_eq!(inbox.stats().await.unwrap().depth, 1);

    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&seen);
    let worker = Worker::from_fn(inbox.clone(), move |delivery: Delivery| {
        kept.lock().unwrap().push(delivery);
        async { Ok::<_, std::convert::Infallible>(()) }
    })
    .spawn();
    until(|| seen.lock().unwrap().len() == 1).await;
    until(|| worker.counts().processed == 1).await;
    worker.shutdown().await;

    let delivery = seen.lock().unwrap().pop().unwrap();
    assert_eq!(delivery.body, Bytes::from(delivery_body("d1")));
    assert_eq!(delivery.provider.as_deref(), Some("github"));
    assert_eq!(delivery.attempt, 1);
    assert_eq!(delivery.headers["x-github-event"], "pull_request");
    assert!(!delivery.headers.contains_key(http::header::AUTHORIZATION));
    // Delivered again after processing: still remembered, not handled again.
    assert!(deliver(addr, "d1").await.is_success());
    let stats = inbox.stats().await.unwrap();
    assert_eq!((stats.depth, stats.in_flight), (0, 0));
}

/// An inbox that cannot take the delivery (full, or its store down)
/// answers 503 with Retry-After: the provider retries.
#[tokio::test]
async fn an_inbox_that_cannot_keep_the_delivery_answers_503() {
    let full = Arc::new(MemoryInbox::new().with_capacity(1));
    let addr = support::serve(app(full)).await;
    assert_eq!(deliver(addr, "first").await, StatusCode::ACCEPTED);
    let body = delivery_body("second");
    let reply = support::post_with(addr, "/hooks/github", &github_headers(&body), &body).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(reply.headers.contains_key(http::header::RETRY_AFTER));

    // A Redis that is not there.
    let port = redis_server::free_port();
    let down = RedisInbox::connect(&format!("redis://127.0.0.1:{port}/")).await;
    assert!(down.is_err(), "nothing listens on {port}");
}

// ---------------------------------------------------------------------
// Workers: retries, dead letters, the CLI
// ---------------------------------------------------------------------

/// A handler that panics, then hangs past its timeout, then succeeds: the
/// delivery is retried each time and handled.
#[tokio::test]
async fn a_panicking_or_hanging_handler_is_retried_not_lost() {
    let inbox = Arc::new(MemoryInbox::new());
    inbox.enqueue(&Delivery::new("k", "{}")).await.unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let worker = Worker::from_fn(inbox.clone(), move |_: Delivery| {
        let call = counted.fetch_add(1, Ordering::SeqCst);
        async move {
            match call {
                0 => panic!("handler bug"),
                1 => tokio::time::sleep(Duration::from_secs(3600)).await,
                _ => {}
            }
            Ok::<_, std::convert::Infallible>(())
        }
    })
    .backoff(Duration::from_millis(1), Duration::from_millis(1))
    .handler_timeout(Duration::from_millis(200))
    .spawn();
    until(|| worker.counts().processed == 1).await;
    let counts = worker.counts();
    worker.shutdown().await;
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(counts.retries, 2);
}

/// Shutdown lets a quick handler finish and puts back, without counting
/// the attempt, one that outlasts the grace.
#[tokio::test]
async fn shutdown_finishes_or_returns_what_it_holds() {
    let inbox = Arc::new(SqliteInbox::open(temp_file("shutdown")).unwrap());
    inbox.enqueue(&Delivery::new("quick", "q")).await.unwrap();
    inbox.enqueue(&Delivery::new("slow", "s")).await.unwrap();
    let started = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&started);
    let worker = Worker::from_fn(inbox.clone(), move |delivery: Delivery| {
        counted.fetch_add(1, Ordering::SeqCst);
        async move {
            let work = if &delivery.body[..] == b"q" {
                50
            } else {
                3_600_000
            };
            tokio::time::sleep(Duration::from_millis(work)).await;
            Ok::<_, std::convert::Infallible>(())
        }
    })
    .shutdown_grace(Duration::from_millis(300))
    .spawn();
    until(|| started.load(Ordering::SeqCst) == 2).await;
    let counts = worker.shutdown().await;
    assert_eq!(counts.processed, 1, "the quick one finished");
    let stats = inbox.stats().await.unwrap();
    assert_eq!(
        (stats.depth, stats.in_flight),
        (1, 0),
        "the slow one is back"
    );
    let back = inbox.claim("next").await.unwrap().unwrap();
    assert_eq!((&*back.delivery.key, back.delivery.attempt), ("slow", 1));
}

fn cli(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_tower-webhook"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "tower-webhook {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A handler failing on every attempt sends the delivery to the dead
/// letters after `max_attempts`; the CLI lists it and puts it back, and a
/// fixed handler then processes it once.
#[tokio::test]
async fn failing_deliveries_end_in_the_dead_letters_and_the_cli_retries_them() {
    let file = temp_file("dead");
    let inbox = Arc::new(SqliteInbox::open(&file).unwrap());
    let addr = support::serve(app(inbox.clone())).await;
    assert_eq!(deliver(addr, "poison").await, StatusCode::ACCEPTED);

    let attempts = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&attempts);
    let failing = Worker::from_fn(inbox.clone(), move |_: Delivery| {
        counted.fetch_add(1, Ordering::SeqCst);
        async { Err::<(), _>("downstream said 500") }
    })
    .max_attempts(3)
    .backoff(Duration::from_millis(5), Duration::from_millis(20))
    .poll_interval(Duration::from_millis(5))
    .spawn();
    until(|| failing.counts().dead_lettered == 1).await;
    failing.shutdown().await;
    assert_eq!(attempts.load(Ordering::SeqCst), 3);

    let path = file.to_str().unwrap();
    let listed = cli(&["inbox", "list", "--sqlite", path]);
    let row: Vec<&str> = listed
        .lines()
        .nth(1)
        .expect("one dead letter")
        .split('\t')
        .collect();
    assert_eq!(&row[1..3], ["3", "github"], "{listed}");
    assert!(row[5].contains("downstream said 500"), "{listed}");
    let key = row[0].to_owned();

    // Still dead: a copy from the sender is acknowledged, not re-added.
    assert!(deliver(addr, "poison").await.is_success());
    assert_eq!(inbox.stats().await.unwrap().dead, 1);

    assert!(cli(&["inbox", "retry", "--sqlite", path, "--key", &key]).starts_with("1 "));
    let runs = Runs::default();
    let fixed = counting_worker(inbox.clone(), &runs)
        .poll_interval(Duration::from_millis(5))
        .spawn();
    until(|| fixed.counts().processed == 1).await;
    fixed.shutdown().await;
    assert_eq!(runs.lock().unwrap()["poison"], 1);
    let stats = inbox.stats().await.unwrap();
    assert_eq!((stats.depth, stats.in_flight, stats.dead), (0, 0, 0));
    assert_eq!(cli(&["inbox", "list", "--sqlite", path]).lines().count(), 1);

    // Purge: gone from the list, and its key stays remembered.
    inbox.enqueue(&Delivery::new("doomed", "{}")).await.unwrap();
    let failing = Worker::from_fn(inbox.clone(), |_: Delivery| async { Err::<(), _>("no") })
        .max_attempts(1)
        .poll_interval(Duration::from_millis(5))
        .spawn();
    until(|| failing.counts().dead_lettered == 1).await;
    failing.shutdown().await;
    assert!(cli(&["inbox", "purge", "--sqlite", path, "--all"]).starts_with("1 "));
    assert_eq!(inbox.stats().await.unwrap().dead, 0);
    assert_eq!(
        inbox.enqueue(&Delivery::new("doomed", "{}")).await.unwrap(),
        tower_webhook::inbox::Enqueued::Duplicate
    );
}

/// The audit events an audit layer's sinks received, shared.
type Events = Arc<Mutex<Vec<tower_webhook::audit::AuditEvent>>>;

fn collecting_audit() -> (tower_webhook::audit::AuditLayer, Events) {
    let events = Events::default();
    let kept = Arc::clone(&events);
    let audit = tower_webhook::audit::AuditLayer::without_sinks().sink(
        move |event: &tower_webhook::audit::AuditEvent| kept.lock().unwrap().push(event.clone()),
    );
    (audit, events)
}

/// The inbox events among `events`: (event name, attempt, detail).
fn inbox_events(events: &Events) -> Vec<(&'static str, Option<u32>, Option<String>)> {
    events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.event.starts_with("webhook.inbox."))
        .map(|e| (e.event, e.attempt, e.detail.as_deref().map(str::to_owned)))
        .collect()
}

/// In the audit trail: a refused enqueue (the inbox full) is a
/// `webhook.rejected` event with reason `store_unavailable`; a handler
/// failing on every attempt of 3 gives two `webhook.inbox.retry` events
/// and one `webhook.inbox.dead_lettered`, each with the attempt, the
/// failure, the inbox key and the provider.
#[tokio::test]
async fn retries_dead_letters_and_refusals_are_in_the_audit_trail() {
    let (audit, events) = collecting_audit();
    let inbox = Arc::new(MemoryInbox::new().with_capacity(1));
    let stack = WebhookStack::github(Secret::new(SECRET).unwrap())
        .build()
        .unwrap();
    let addr = support::serve(
        Router::new().route(
            "/hooks/github",
            post(|| async { StatusCode::NOT_FOUND }).layer(
                ServiceBuilder::new()
                    .layer(audit.clone())
                    .layer(stack)
                    .layer(InboxLayer::new(inbox.clone())),
            ),
        ),
    )
    .await;
    assert_eq!(deliver(addr, "poison").await, StatusCode::ACCEPTED);
    assert_eq!(
        deliver(addr, "no-room").await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    {
        let events = events.lock().unwrap();
        let refused = events
            .iter()
            .find(|e| e.status == 503)
            .expect("the refusal is audited");
        assert_eq!(refused.event, "webhook.rejected");
        assert_eq!(
            refused.reason.map(|r| r.as_str()),
            Some("store_unavailable")
        );
        assert!(
            refused.detail.as_deref().unwrap_or("").contains("full"),
            "{refused:?}"
        );
    }

    let failing = Worker::from_fn(inbox.clone(), |_: Delivery| async {
        Err::<(), _>("downstream said 500")
    })
    .max_attempts(3)
    .backoff(Duration::from_millis(5), Duration::from_millis(20))
    .poll_interval(Duration::from_millis(5))
    .audit(&audit)
    .spawn();
    until(|| failing.counts().dead_lettered == 1).await;
    failing.shutdown().await;
    let failure = Some("downstream said 500".to_owned());
    assert_eq!(
        inbox_events(&events),
        [
            ("webhook.inbox.retry", Some(1), failure.clone()),
            ("webhook.inbox.retry", Some(2), failure.clone()),
            ("webhook.inbox.dead_lettered", Some(3), failure),
        ]
    );
    let key = inbox.dead_letters(1).await.unwrap()[0].key.clone();
    let events = events.lock().unwrap();
    let dead = events.last().unwrap();
    assert_eq!(dead.inbox_key.as_deref(), Some(key.as_str()));
    assert_eq!(dead.scheme.as_deref(), Some("github"));
    assert_eq!((dead.status, dead.path.as_str()), (0, ""));
    assert!(
        dead.to_json().contains(r#""attempt":3"#),
        "{}",
        dead.to_json()
    );
    // Requests only in the layer's counters: the accepted one and the refusal.
    let counts = audit.counts();
    assert_eq!((counts.accepted, counts.rejected), (1, 1));
}

/// In the audit trail: a worker that takes over a delivery whose holder
/// showed no progress records `webhook.inbox.taken_over` (the second
/// attempt), and the holder, finding its hold gone when its handler ends,
/// `webhook.inbox.hold_lost` (the first).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_takeover_and_a_lost_hold_are_in_the_audit_trail() {
    const LEASE: Duration = Duration::from_millis(200);
    let (audit, events) = collecting_audit();
    // The holder's heartbeats never land: to the other worker it is silent.
    let inbox = Arc::new(Partitioned {
        inner: MemoryInbox::new(),
        down: false.into(),
        beats_down: true.into(),
    });
    inbox.enqueue(&Delivery::new("slow", "{}")).await.unwrap();
    let gate = Arc::new(tokio::sync::Notify::new());
    let started = Arc::new(AtomicUsize::new(0));
    let holder = {
        let (gate, started) = (Arc::clone(&gate), Arc::clone(&started));
        Worker::from_fn(inbox.clone(), move |_: Delivery| {
            started.fetch_add(1, Ordering::SeqCst);
            let gate = Arc::clone(&gate);
            async move {
                gate.notified().await;
                Ok::<_, std::convert::Infallible>(())
            }
        })
        .name("holder")
        .lease(LEASE)
        .audit(&audit)
        .spawn()
    };
    until(|| started.load(Ordering::SeqCst) == 1).await;
    let runs = Runs::default();
    let taker = Worker::from_fn(inbox.clone(), {
        let runs = Arc::clone(&runs);
        move |delivery: Delivery| {
            *runs
                .lock()
                .unwrap()
                .entry(delivery.key.to_string())
                .or_default() += 1;
            async { Ok::<_, std::convert::Infallible>(()) }
        }
    })
    .name("taker")
    .lease(LEASE)
    .audit(&audit)
    .spawn();
    until(|| taker.counts().processed == 1).await;
    gate.notify_waiters();
    until(|| holder.counts().holds_lost == 1).await;
    holder.shutdown().await;
    taker.shutdown().await;
    assert_eq!(
        inbox_events(&events),
        [
            ("webhook.inbox.taken_over", Some(2), None),
            ("webhook.inbox.hold_lost", Some(1), None),
        ]
    );
    assert!(events
        .lock()
        .unwrap()
        .iter()
        .all(|e| e.inbox_key.as_deref() == Some("slow")));
}

/// The same with Redis: dead letters listed and retried through the CLI.
#[tokio::test]
async fn redis_dead_letters_are_listed_and_retried_by_the_cli() {
    let redis = RedisProcess::start(&[]);
    let inbox = Arc::new(RedisInbox::connect(&redis.url()).await.unwrap());
    let addr = support::serve(app(inbox.clone())).await;
    assert_eq!(deliver(addr, "poison").await, StatusCode::ACCEPTED);
    let failing = Worker::from_fn(inbox.clone(), |_: Delivery| async { Err::<(), _>("boom") })
        .max_attempts(2)
        .backoff(Duration::from_millis(5), Duration::from_millis(5))
        .poll_interval(Duration::from_millis(5))
        .spawn();
    until(|| failing.counts().dead_lettered == 1).await;
    failing.shutdown().await;
    let listed = cli(&["inbox", "list", "--redis", &redis.url()]);
    let row: Vec<&str> = listed
        .lines()
        .nth(1)
        .expect("one dead letter")
        .split('\t')
        .collect();
    assert_eq!(&row[1..3], ["2", "github"], "{listed}");
    assert!(cli(&["inbox", "retry", "--redis", &redis.url(), "--all"]).starts_with("1 "));
    let runs = Runs::default();
    let fixed = counting_worker(inbox.clone(), &runs)
        .poll_interval(Duration::from_millis(5))
        .spawn();
    until(|| fixed.counts().processed == 1).await;
    fixed.shutdown().await;
    assert_eq!(runs.lock().unwrap()["poison"], 1);
    let stats = inbox.stats().await.unwrap();
    assert_eq!((stats.depth, stats.in_flight, stats.dead), (0, 0, 0));
}

/// The arguments of one `MONITOR` line, and whether a script sent the
/// command (`[0 lua]`) rather than a client.
fn monitor_line(line: &str) -> Option<(bool, Vec<String>)> {
    let open = line.find(" [")?;
    let close = open + line[open..].find("] ")?;
    let from_script = line[open..close].ends_with(" lua");
    let mut args = Vec::new();
    let mut chars = line[close + 2..].chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut arg = String::new();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('n') => arg.push('\n'),
                    Some('r') => arg.push('\r'),
                    Some('t') => arg.push('\t'),
                    Some('x') => {
                        let hex: String = chars.by_ref().take(2).collect();
                        arg.push(char::from(u8::from_str_radix(&hex, 16).unwrap_or(b'?')));
                    }
                    Some(other) => arg.push(other),
                    None => break,
                },
                c => arg.push(c),
            }
        }
        args.push(arg);
    }
    Some((from_script, args))
}

/// Every Lua script of `RedisInbox` declares in `KEYS` every key it
/// touches (what a Redis Cluster and its proxies route by): a real Redis
/// under `MONITOR` while every operation runs, and each command a script
/// sends (`[0 lua]` lines) names only keys of its `EVAL`/`EVALSHA`'s
/// declared list.
#[tokio::test]
async fn every_redis_script_declares_the_keys_it_touches() {
    let redis = RedisProcess::start(&[]);
    let mut monitor = Command::new(redis_server::find_on_path("redis-cli"))
        .args(["-h", "127.0.0.1", "-p", &redis.port.to_string(), "monitor"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (lines, seen) = std::sync::mpsc::channel();
    let stdout = monitor.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                return;
            }
        }
    });
    // `OK` once MONITOR is on.
    assert_eq!(seen.recv().unwrap(), "OK");

    let inbox = RedisInbox::connect_with_prefix(&redis.url(), "audited")
        .await
        .unwrap();
    // Every operation, on every path that writes something.
    for key in ["a", "b", "c"] {
        inbox.enqueue(&Delivery::new(key, "{}")).await.unwrap();
    }
    inbox.enqueue(&Delivery::new("a", "{}")).await.unwrap();
    let a = inbox.claim("w1").await.unwrap().unwrap();
    assert!(inbox.heartbeat(&a.claim).await.unwrap());
    let held = inbox.held().await.unwrap();
    let a = inbox.take_over(&held[0], "w2").await.unwrap().unwrap();
    assert!(inbox.complete(&a.claim).await.unwrap());
    let b = inbox.claim("w1").await.unwrap().unwrap();
    assert!(inbox.retry_at(&b.claim, 0, "later").await.unwrap());
    let b = inbox.claim("w1").await.unwrap().unwrap();
    assert!(inbox.release(&b.claim).await.unwrap());
    let b = inbox.claim("w1").await.unwrap().unwrap();
    assert!(inbox.dead_letter(&b.claim, "no").await.unwrap());
    let c = inbox.claim("w1").await.unwrap().unwrap();
    assert!(inbox.dead_letter(&c.claim, "no").await.unwrap());
    assert_eq!(inbox.dead_letters(10).await.unwrap().len(), 2);
    assert_eq!(inbox.retry_dead(Some(&b.delivery.key)).await.unwrap(), 1);
    assert_eq!(inbox.purge_dead(None).await.unwrap(), 1);
    let stats = inbox.stats().await.unwrap();
    assert_eq!((stats.depth, stats.dead), (1, 0));
    redis.cli(&["ECHO", "end-of-test"]);

    let mut declared: Vec<String> = Vec::new();
    let (mut scripts, mut checked) = (0, 0);
    loop {
        let line = seen.recv().unwrap();
        let Some((from_script, args)) = monitor_line(&line) else {
            continue;
        };
        let verb = args.first().map(|v| v.to_ascii_uppercase());
        if verb.as_deref() == Some("ECHO") && args.get(1).map(String::as_str) == Some("end-of-test")
        {
            break;
        }
        if from_script {
            for arg in args.iter().filter(|a| a.starts_with("{audited}:")) {
                assert!(
                    declared.contains(arg),
                    "a script touches {arg:?}, not among its KEYS {declared:?}: {line}"
                );
                checked += 1;
            }
        } else if matches!(verb.as_deref(), Some("EVAL" | "EVALSHA")) {
            let count: usize = args[2].parse().unwrap();
            declared = args[3..3 + count].to_vec();
            scripts += 1;
        }
    }
    let _ = monitor.kill();
    let _ = monitor.wait();
    assert!(
        scripts >= 18 && checked >= 50,
        "{scripts} scripts, {checked} keys checked"
    );
}

/// The Redis inbox on a 3-master Redis Cluster: 3 replicas, each delivery
/// sent 3 times (once to each), a worker per replica; every delivery
/// handled exactly once; poison deliveries go to the dead letters and,
/// listed and retried through the CLI with the handler fixed, are handled
/// once. Every key of the inbox is on one node, in one slot.
#[cfg(feature = "redis-cluster")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redis_inbox_runs_on_a_cluster_exactly_once() {
    const DELIVERIES: usize = 300;
    const POISON: usize = 5;
    let nodes = redis_server::start_cluster(3);
    let urls: Vec<String> = nodes.iter().map(RedisProcess::url).collect();
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();

    let runs = Runs::default();
    let fixed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut replicas = Vec::new();
    let mut workers = Vec::new();
    let mut inboxes = Vec::new();
    for n in 0..3 {
        let inbox: Arc<dyn Inbox> = Arc::new(
            RedisInbox::connect_cluster(&urls, "cluster-inbox")
                .await
                .expect("connecting to the cluster"),
        );
        replicas.push(support::serve(app(Arc::clone(&inbox))).await);
        let (runs, fixed) = (Arc::clone(&runs), Arc::clone(&fixed));
        workers.push(
            Worker::from_fn(Arc::clone(&inbox), move |delivery: Delivery| {
                let id = id_of(&delivery);
                let fail = id.starts_with("poison") && !fixed.load(Ordering::SeqCst);
                if !fail {
                    *runs.lock().unwrap().entry(id).or_default() += 1;
                }
                async move {
                    if fail {
                        return Err("poison");
                    }
                    Ok(())
                }
            })
            .name(format!("replica-{n}"))
            .concurrency(4)
            .max_attempts(2)
            .backoff(Duration::from_millis(5), Duration::from_millis(5))
            .poll_interval(Duration::from_millis(5))
            .spawn(),
        );
        inboxes.push(inbox);
    }
    let ids: Vec<String> = (0..DELIVERIES)
        .map(|i| format!("evt-{i}"))
        .chain((0..POISON).map(|i| format!("poison-{i}")))
        .collect();
    let senders = Arc::new(Semaphore::new(24));
    let mut sends = tokio::task::JoinSet::new();
    for (i, id) in ids.iter().enumerate() {
        for copy in 0..3 {
            let permit = Arc::clone(&senders).acquire_owned().await.unwrap();
            let (addr, id) = (replicas[(i + copy) % 3], id.clone());
            sends.spawn(async move {
                let status = deliver(addr, &id).await;
                drop(permit);
                status
            });
        }
    }
    while let Some(status) = sends.join_next().await {
        let status = status.unwrap();
        assert!(status.is_success(), "{status}");
    }
    until(|| runs.lock().unwrap().len() == DELIVERIES).await;
    let probe = &inboxes[0];
    loop {
        let stats = probe.stats().await.unwrap();
        if stats.depth == 0 && stats.in_flight == 0 && stats.dead == POISON as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let letters = probe.dead_letters(100).await.unwrap();
    assert_eq!(letters.len(), POISON);
    assert!(letters.iter().all(|l| l.attempts == 2), "{letters:?}");
    // The operator's view, through the CLI.
    let nodes_arg = urls.join(",");
    let store = ["--redis-cluster", &nodes_arg, "--prefix", "cluster-inbox"];
    let listed = cli(&[&["inbox", "list"][..], &store].concat());
    assert_eq!(listed.lines().count(), 1 + POISON, "{listed}");

    fixed.store(true, Ordering::SeqCst);
    let retried = cli(&[&["inbox", "retry", "--all"][..], &store].concat());
    assert!(retried.starts_with(&format!("{POISON} ")), "{retried}");
    until(|| runs.lock().unwrap().len() == DELIVERIES + POISON).await;
    loop {
        let stats = probe.stats().await.unwrap();
        if stats.depth == 0 && stats.in_flight == 0 {
            assert_eq!(stats.dead, 0);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut counts = tower_webhook::inbox::InboxCounts::default();
    for worker in workers {
        let c = worker.counts();
        counts.processed += c.processed;
        counts.dead_lettered += c.dead_lettered;
        worker.shutdown().await;
    }
    let runs = runs.lock().unwrap();
    let twice: Vec<_> = runs.iter().filter(|(_, &n)| n != 1).collect();
    assert!(twice.is_empty(), "handled more than once: {twice:?}");
    assert_eq!(runs.len(), DELIVERIES + POISON);
    assert_eq!(counts.processed, (DELIVERIES + POISON) as u64);
    assert_eq!(counts.dead_lettered, POISON as u64);

    // One node holds the whole inbox, every key in one slot.
    let mut keys = Vec::new();
    for node in &nodes {
        keys.extend(
            node.cli(&["--scan"])
                .lines()
                .map(|key| (node.port, key.to_owned())),
        );
    }
    assert!(!keys.is_empty());
    assert!(
        keys.iter().all(|(port, _)| *port == keys[0].0),
        "keys on several nodes: {keys:?}"
    );
    let slots: HashSet<String> = keys
        .iter()
        .map(|(_, key)| {
            assert!(key.starts_with("{cluster-inbox}:"), "{key}");
            nodes[0].cli(&["CLUSTER", "KEYSLOT", key]).trim().to_owned()
        })
        .collect();
    assert_eq!(slots.len(), 1, "{slots:?}");
}

/// The Redis inbox through Sentinel: deliveries sent to a receiver are
/// handled; then deliveries are acknowledged while no worker runs, the
/// replica is let catch up (what `WAIT 1` would ensure: the inbox does not
/// wait for replicas, and what the primary had not copied yet would go
/// with it), and the primary is killed. A worker started at once sees the
/// failover; the sentinel promotes the replica and the inbox finds it: the
/// deliveries that waited and those sent after the failover (`503` until
/// then) are each handled once.
#[cfg(feature = "redis-sentinel")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redis_inbox_behind_sentinel_follows_a_failover() {
    use crate::topologies::{eventually, SentinelGroup};
    const EACH: usize = 10;
    let _heavy = support::heavy().await;
    let mut group = SentinelGroup::start();
    let sentinels = [group.sentinel.url()];
    let sentinels: Vec<&str> = sentinels.iter().map(String::as_str).collect();
    let inbox: Arc<dyn Inbox> = Arc::new(
        RedisInbox::connect_sentinel(&sentinels, "webhooks", "sentinel-inbox")
            .await
            .expect("connecting through the sentinel"),
    );
    let addr = support::serve(app(Arc::clone(&inbox))).await;
    let runs = Runs::default();
    let worker = || {
        counting_worker(Arc::clone(&inbox), &runs)
            .poll_interval(Duration::from_millis(5))
            .spawn()
    };

    let first = worker();
    for i in 0..EACH {
        assert_eq!(
            deliver(addr, &format!("before-{i}")).await,
            StatusCode::ACCEPTED
        );
    }
    until(|| runs.lock().unwrap().len() == EACH).await;
    first.shutdown().await;
    assert!(
        group
            .primary
            .cli(&["--scan"])
            .contains("{sentinel-inbox}:stream"),
        "the inbox is on the primary"
    );

    for i in 0..EACH {
        assert_eq!(
            deliver(addr, &format!("waiting-{i}")).await,
            StatusCode::ACCEPTED
        );
    }
    assert_eq!(inbox.stats().await.unwrap().depth, EACH as u64);
    eventually(Duration::from_secs(20), "the replica to catch up", || {
        group.replica_caught_up()
    });
    group.primary.kill();
    let second = worker();

    let mut refused = 0;
    // Not a timing claim: a guard so that an inbox that never finds the
    // new primary fails the test instead of hanging it.
    let guard = std::time::Instant::now();
    for i in 0..EACH {
        loop {
            assert!(guard.elapsed() < Duration::from_secs(120), "never accepted");
            // A success: `202`, or `200` if a try that timed out had
            // landed after all.
            let status = deliver(addr, &format!("after-{i}")).await;
            if status.is_success() {
                break;
            }
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
            refused += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    until(|| runs.lock().unwrap().len() == 3 * EACH).await;
    // The last completions may land just after their runs were counted.
    until(|| second.counts().processed == 2 * EACH as u64).await;
    second.shutdown().await;
    println!("sentinel inbox: {refused} refusals (503) while the primary moved");

    assert!(group.replica_promoted());
    let stats = inbox.stats().await.unwrap();
    assert_eq!((stats.depth, stats.in_flight), (0, 0));
    let runs = runs.lock().unwrap();
    for phase in ["before", "waiting", "after"] {
        for i in 0..EACH {
            assert_eq!(runs.get(&format!("{phase}-{i}")), Some(&1), "{phase}-{i}");
        }
    }
}

/// A switchover (`SENTINEL FAILOVER`): the old primary stays up and is
/// made a replica, and the sentinel disconnects its clients (so the inbox
/// sees its connection dropped, here, rather than `READONLY`). The inbox
/// moves to the promoted replica: what waited is handled there, and what
/// is enqueued after goes there too. (About 15 s: the sentinel demotes the
/// old primary some seconds after the promotion.)
#[cfg(feature = "redis-sentinel")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redis_inbox_behind_sentinel_follows_a_switchover() {
    use crate::topologies::{eventually, SentinelGroup};
    const EACH: usize = 5;
    let _heavy = support::heavy().await;
    let group = SentinelGroup::start();
    let sentinels = [group.sentinel.url()];
    let sentinels: Vec<&str> = sentinels.iter().map(String::as_str).collect();
    let inbox: Arc<dyn Inbox> = Arc::new(
        RedisInbox::connect_sentinel(&sentinels, "webhooks", "switchover")
            .await
            .expect("connecting through the sentinel"),
    );
    let delivery = |id: String| Delivery::new(id.clone(), delivery_body(&id));
    for i in 0..EACH {
        inbox
            .enqueue(&delivery(format!("waiting-{i}")))
            .await
            .unwrap();
    }
    eventually(Duration::from_secs(20), "the replica to catch up", || {
        group.replica_caught_up()
    });
    assert_eq!(
        group
            .sentinel
            .cli(&["SENTINEL", "FAILOVER", "webhooks"])
            .trim(),
        "OK"
    );
    eventually(Duration::from_secs(60), "the switchover", || {
        group.switched_over() && group.primary.cli(&["ROLE"]).starts_with("slave")
    });

    // Not a timing claim: a guard so that an inbox that never finds the
    // new primary fails the test instead of hanging it.
    let guard = std::time::Instant::now();
    let mut failed = Vec::new();
    for i in 0..EACH {
        while let Err(error) = inbox.enqueue(&delivery(format!("after-{i}"))).await {
            assert!(guard.elapsed() < Duration::from_secs(120), "never accepted");
            failed.push(error.to_string());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    println!("switchover: failed enqueues before the inbox found the new primary: {failed:?}");
    let runs = Runs::default();
    let worker = counting_worker(Arc::clone(&inbox), &runs)
        .poll_interval(Duration::from_millis(5))
        .spawn();
    until(|| worker.counts().processed == 2 * EACH as u64).await;
    worker.shutdown().await;
    let runs = runs.lock().unwrap();
    for phase in ["waiting", "after"] {
        for i in 0..EACH {
            assert_eq!(runs.get(&format!("{phase}-{i}")), Some(&1), "{phase}-{i}");
        }
    }
}

// ---------------------------------------------------------------------
// Exactly once over replicas
// ---------------------------------------------------------------------

/// Deliveries × 3 copies, each copy to another of 3 replicas sharing one
/// Redis inbox, a worker on each: every delivery handled exactly once.
/// (`examples/inbox_bench.rs` runs the full 10,000 × 3.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_delivery_is_handled_once_over_three_replicas() {
    let _heavy = support::heavy().await;
    const DELIVERIES: usize = 2_000;
    let redis = RedisProcess::start(&[]);
    let runs = Runs::default();
    let mut replicas = Vec::new();
    let mut workers = Vec::new();
    for n in 0..3 {
        let inbox: Arc<dyn Inbox> = Arc::new(RedisInbox::connect(&redis.url()).await.unwrap());
        replicas.push(support::serve(app(Arc::clone(&inbox))).await);
        workers.push(
            counting_worker(inbox, &runs)
                .name(format!("replica-{n}"))
                .concurrency(8)
                .poll_interval(Duration::from_millis(5))
                .spawn(),
        );
    }
    let senders = Arc::new(Semaphore::new(48));
    let mut sends = tokio::task::JoinSet::new();
    for i in 0..DELIVERIES {
        for copy in 0..3 {
            let permit = Arc::clone(&senders).acquire_owned().await.unwrap();
            let addr = replicas[(i + copy) % 3];
            sends.spawn(async move {
                let status = deliver(addr, &format!("evt-{i}")).await;
                drop(permit);
                status
            });
        }
    }
    while let Some(status) = sends.join_next().await {
        let status = status.unwrap();
        assert!(status.is_success(), "{status}");
    }
    until(|| runs.lock().unwrap().len() == DELIVERIES).await;
    // Let any second run that would happen happen.
    let probe = RedisInbox::connect(&redis.url()).await.unwrap();
    loop {
        let stats = probe.stats().await.unwrap();
        if stats.depth == 0 && stats.in_flight == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut processed = 0;
    for worker in workers {
        processed += worker.counts().processed;
        worker.shutdown().await;
    }
    let runs = runs.lock().unwrap();
    let twice: Vec<_> = runs.iter().filter(|(_, &n)| n != 1).collect();
    assert!(twice.is_empty(), "handled more than once: {twice:?}");
    assert_eq!(runs.len(), DELIVERIES);
    assert_eq!(processed, DELIVERIES as u64);
}

// ---------------------------------------------------------------------
// Crashes: a worker, the embedded store's process, Redis
// ---------------------------------------------------------------------

/// A worker process killed mid-handler: another worker takes the delivery
/// over after the lease and handles it, once.
#[tokio::test]
async fn a_worker_killed_mid_handler_is_replaced_once() {
    let file = temp_file("killed-worker");
    let inbox = Arc::new(SqliteInbox::open(&file).unwrap());
    inbox
        .enqueue(&Delivery::new("k1", delivery_body("w1")))
        .await
        .unwrap();

    let mut child = ChildProcess::start("worker", &file);
    assert_eq!(child.line("started ").await, "w1");
    child.kill();
    assert_eq!(
        inbox.stats().await.unwrap().in_flight,
        1,
        "held by the dead worker"
    );

    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&seen);
    let worker = Worker::from_fn(inbox.clone(), move |delivery: Delivery| {
        kept.lock().unwrap().push(delivery.attempt);
        async { Ok::<_, std::convert::Infallible>(()) }
    })
    .lease(Duration::from_secs(1))
    .spawn();
    until(|| worker.counts().processed == 1).await;
    let counts = worker.counts();
    worker.shutdown().await;
    assert_eq!(
        *seen.lock().unwrap(),
        [2],
        "one run here, the second attempt"
    );
    assert_eq!(counts.taken_over, 1);
    let stats = inbox.stats().await.unwrap();
    assert_eq!((stats.depth, stats.in_flight), (0, 0));
}

/// Send deliveries `0..` to `addr` from 16 senders until `stop`; the ids
/// answered 2xx.
async fn deliver_until(
    addr: SocketAddr,
    acked: Arc<Mutex<HashSet<String>>>,
    stop: Arc<AtomicUsize>,
) {
    let next = Arc::new(AtomicUsize::new(0));
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let (next, acked, stop) = (Arc::clone(&next), Arc::clone(&acked), Arc::clone(&stop));
        senders.spawn(async move {
            while stop.load(Ordering::SeqCst) == 0 {
                let id = format!("evt-{}", next.fetch_add(1, Ordering::SeqCst));
                let body = delivery_body(&id);
                let headers = github_headers(&body);
                let Ok(reply) =
                    tokio::time::timeout(Duration::from_secs(5), try_post(addr, &headers, &body))
                        .await
                else {
                    continue;
                };
                if reply.is_some_and(|status| status.is_success()) {
                    acked.lock().unwrap().insert(id);
                }
            }
        });
    }
    while senders.join_next().await.is_some() {}
}

/// A post that may find no server (the process was killed).
async fn try_post(
    addr: SocketAddr,
    headers: &[(HeaderName, HeaderValue)],
    body: &[u8],
) -> Option<StatusCode> {
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let client = Client::builder(TokioExecutor::new()).build_http::<http_body_util::Full<Bytes>>();
    let mut request = support::post(addr, "/hooks/github")
        .body(http_body_util::Full::new(Bytes::copy_from_slice(body)))
        .unwrap();
    for (name, value) in headers {
        request.headers_mut().append(name.clone(), value.clone());
    }
    client.request(request).await.ok().map(|r| r.status())
}

/// Every delivery in `inbox`, drained by a worker: their ids.
async fn drain(inbox: Arc<dyn Inbox>) -> HashSet<String> {
    let runs = Runs::default();
    let worker = counting_worker(Arc::clone(&inbox), &runs)
        .concurrency(8)
        .poll_interval(Duration::from_millis(5))
        .spawn();
    loop {
        let stats = inbox.stats().await.unwrap();
        if stats.depth == 0 && stats.in_flight == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    worker.shutdown().await;
    let runs = runs.lock().unwrap();
    assert!(runs.values().all(|&n| n == 1), "a delivery ran twice");
    runs.keys().cloned().collect()
}

/// The receiver process writing to the SQLite inbox is killed while
/// deliveries arrive: every delivery it acknowledged is in the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_store_keeps_every_acknowledged_delivery_when_its_process_dies() {
    let file = temp_file("killed-receiver");
    let mut child = ChildProcess::start("receiver", &file);
    let addr: SocketAddr = child.line("listening ").await.parse().unwrap();
    let acked = Arc::new(Mutex::new(HashSet::new()));
    let stop = Arc::new(AtomicUsize::new(0));
    let sending = tokio::spawn(deliver_until(addr, Arc::clone(&acked), Arc::clone(&stop)));
    {
        let acked = Arc::clone(&acked);
        until(move || acked.lock().unwrap().len() >= 300).await;
    }
    child.kill();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(1, Ordering::SeqCst);
    sending.await.unwrap();

    let kept = drain(Arc::new(SqliteInbox::open(&file).unwrap())).await;
    let acked = acked.lock().unwrap();
    let lost: Vec<_> = acked.difference(&kept).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    assert!(acked.len() >= 300);
}

/// Redis with AOF (`appendfsync always`) killed while deliveries arrive,
/// then restarted: every delivery that got a 2xx is in the inbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aof_redis_killed_keeps_every_acknowledged_delivery() {
    let mut redis = RedisProcess::start(&["--appendonly", "yes", "--appendfsync", "always"]);
    let inbox = Arc::new(RedisInbox::connect(&redis.url()).await.unwrap());
    let addr = support::serve(app(inbox.clone())).await;
    let acked = Arc::new(Mutex::new(HashSet::new()));
    let stop = Arc::new(AtomicUsize::new(0));
    let sending = tokio::spawn(deliver_until(addr, Arc::clone(&acked), Arc::clone(&stop)));
    {
        let acked = Arc::clone(&acked);
        until(move || acked.lock().unwrap().len() >= 300).await;
    }
    redis.kill();
    let acked_at_kill = acked.lock().unwrap().len();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(1, Ordering::SeqCst);
    sending.await.unwrap();
    redis.restart();

    let reopened = Arc::new(RedisInbox::connect(&redis.url()).await.unwrap());
    let kept = drain(reopened).await;
    let acked = acked.lock().unwrap();
    let lost: Vec<_> = acked.difference(&kept).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    // While Redis was down nothing was acknowledged (a 503 each time).
    assert!(
        acked.len() <= acked_at_kill + 16,
        "{} acked after the kill",
        acked.len() - acked_at_kill
    );
}

// ---------------------------------------------------------------------
// A stalled store
// ---------------------------------------------------------------------

/// Redis stopped (SIGSTOP) for three leases while a worker runs a
/// delivery, and the holder's heartbeats lost from a quarter lease before
/// the stop to half a lease after it (not queued in the stopped server,
/// where they would land on resume and show progress anyway): the other
/// worker sees the same heartbeat before and after, more than a lease
/// apart, but its own reads failed in between, so it starts observing
/// again, and the holder's next heartbeat keeps the delivery where it
/// runs. One run. (Judged on the store's clock, or across the failed
/// reads, the holder was silent for more than a lease.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_store_hands_no_held_delivery_to_another_worker() {
    let redis = RedisProcess::start(&[]);
    // Two seconds, not one: the holder's first heartbeat after the stop
    // must land within half a lease, and on a loaded 2-core CI machine a
    // beat was once late by more than half a second.
    const LEASE: Duration = Duration::from_millis(2000);
    let gate = Arc::new(tokio::sync::Notify::new());
    let started = Arc::new(AtomicUsize::new(0));
    let holder_inbox = Arc::new(Partitioned {
        inner: RedisInbox::connect(&redis.url()).await.unwrap(),
        down: false.into(),
        beats_down: false.into(),
    });
    let mut workers = vec![held_at_the_gate(
        holder_inbox.clone(),
        0,
        LEASE,
        &gate,
        &started,
    )];
    let inbox = RedisInbox::connect(&redis.url()).await.unwrap();
    inbox.enqueue(&Delivery::new("held", "{}")).await.unwrap();
    until(|| started.load(Ordering::SeqCst) == 1).await;
    let other = Arc::new(RedisInbox::connect(&redis.url()).await.unwrap());
    workers.push(held_at_the_gate(other, 1, LEASE, &gate, &started));
    // The other worker has observed the hold for a while.
    tokio::time::sleep(LEASE / 2).await;

    holder_inbox.beats_down.store(true, Ordering::SeqCst);
    tokio::time::sleep(LEASE / 4).await;
    redis.signal("STOP");
    tokio::time::sleep(LEASE * 3).await;
    redis.signal("CONT");
    tokio::time::sleep(LEASE / 2).await;
    holder_inbox.beats_down.store(false, Ordering::SeqCst);
    // Two more leases with the store up: the holder's heartbeats resume.
    tokio::time::sleep(LEASE * 2).await;
    assert_eq!(
        started.load(Ordering::SeqCst),
        1,
        "taken over while its worker ran it"
    );

    gate.notify_waiters();
    let (processed, taken_over) = loop {
        let counts: Vec<_> = workers.iter().map(|w| w.counts()).collect();
        let processed = counts.iter().map(|c| c.processed).sum::<u64>();
        if processed == 1 {
            break (processed, counts.iter().map(|c| c.taken_over).sum::<u64>());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    for worker in workers {
        worker.shutdown().await;
    }
    assert_eq!((processed, taken_over), (1, 0));
    assert_eq!(started.load(Ordering::SeqCst), 1);
}

/// `RedisInbox::connect` on a down server, and every store error, are
/// `InboxError`s with a stable label.
#[test]
fn errors_have_stable_labels() {
    assert_eq!(InboxError::Full.label(), "full");
    assert_eq!(
        InboxError::Timeout.to_string(),
        "the inbox store did not answer in time"
    );
}

/// An inbox (in memory unless said otherwise) whose store can be cut off:
/// while `down`, every call fails at once (a partitioned or stopped store,
/// as a client with a timeout sees it); while `beats_down`, heartbeats fail
/// too, lost rather than delayed.
struct Partitioned<I = MemoryInbox> {
    inner: I,
    down: std::sync::atomic::AtomicBool,
    beats_down: std::sync::atomic::AtomicBool,
}

impl<I> Partitioned<I> {
    fn fail<T: Send + 'static>(&self) -> Option<tower_webhook::inbox::InboxFuture<'static, T>> {
        self.down
            .load(Ordering::SeqCst)
            .then(|| Box::pin(std::future::ready(Err(InboxError::Timeout))) as _)
    }
}

impl<I: Inbox> Inbox for Partitioned<I> {
    fn enqueue<'a>(
        &'a self,
        d: &'a Delivery,
    ) -> tower_webhook::inbox::InboxFuture<'a, tower_webhook::inbox::Enqueued> {
        self.fail().unwrap_or_else(|| self.inner.enqueue(d))
    }
    fn claim<'a>(
        &'a self,
        w: &'a str,
    ) -> tower_webhook::inbox::InboxFuture<'a, Option<tower_webhook::inbox::Claimed>> {
        self.fail().unwrap_or_else(|| self.inner.claim(w))
    }
    fn heartbeat<'a>(
        &'a self,
        c: &'a tower_webhook::inbox::Claim,
    ) -> tower_webhook::inbox::InboxFuture<'a, bool> {
        if self.beats_down.load(Ordering::SeqCst) {
            return Box::pin(std::future::ready(Err(InboxError::Timeout)));
        }
        self.fail().unwrap_or_else(|| self.inner.heartbeat(c))
    }
    fn held(&self) -> tower_webhook::inbox::InboxFuture<'_, Vec<tower_webhook::inbox::Held>> {
        self.fail().unwrap_or_else(|| self.inner.held())
    }
    fn take_over<'a>(
        &'a self,
        h: &'a tower_webhook::inbox::Held,
        w: &'a str,
    ) -> tower_webhook::inbox::InboxFuture<'a, Option<tower_webhook::inbox::Claimed>> {
        self.fail().unwrap_or_else(|| self.inner.take_over(h, w))
    }
    fn complete<'a>(
        &'a self,
        c: &'a tower_webhook::inbox::Claim,
    ) -> tower_webhook::inbox::InboxFuture<'a, bool> {
        self.fail().unwrap_or_else(|| self.inner.complete(c))
    }
    fn retry_at<'a>(
        &'a self,
        c: &'a tower_webhook::inbox::Claim,
        due: i64,
        e: &'a str,
    ) -> tower_webhook::inbox::InboxFuture<'a, bool> {
        self.fail()
            .unwrap_or_else(|| self.inner.retry_at(c, due, e))
    }
    fn release<'a>(
        &'a self,
        c: &'a tower_webhook::inbox::Claim,
    ) -> tower_webhook::inbox::InboxFuture<'a, bool> {
        self.fail().unwrap_or_else(|| self.inner.release(c))
    }
    fn dead_letter<'a>(
        &'a self,
        c: &'a tower_webhook::inbox::Claim,
        e: &'a str,
    ) -> tower_webhook::inbox::InboxFuture<'a, bool> {
        self.fail().unwrap_or_else(|| self.inner.dead_letter(c, e))
    }
    fn dead_letters(
        &self,
        n: usize,
    ) -> tower_webhook::inbox::InboxFuture<'_, Vec<tower_webhook::inbox::DeadLetter>> {
        self.fail().unwrap_or_else(|| self.inner.dead_letters(n))
    }
    fn retry_dead<'a>(&'a self, k: Option<&'a str>) -> tower_webhook::inbox::InboxFuture<'a, u64> {
        self.fail().unwrap_or_else(|| self.inner.retry_dead(k))
    }
    fn purge_dead<'a>(&'a self, k: Option<&'a str>) -> tower_webhook::inbox::InboxFuture<'a, u64> {
        self.fail().unwrap_or_else(|| self.inner.purge_dead(k))
    }
    fn stats(&self) -> tower_webhook::inbox::InboxFuture<'_, tower_webhook::inbox::InboxStats> {
        self.fail().unwrap_or_else(|| self.inner.stats())
    }
}

/// The store unreachable for two leases: the holder's heartbeats are
/// lost (from half a lease before to half a lease after), and the other
/// worker's reads fail. When the store comes back the
/// other worker sees the same heartbeat as before the outage, but it has
/// not *observed* a lease of silence (its reads failed), so it starts
/// observing again, and the holder's first heartbeat after the outage
/// (its path to the store comes back half a lease after the other
/// worker's) keeps the delivery where it runs. One run. (Judged on the
/// store's or the outage's clock, the holder was silent for more than a
/// lease: the other worker would take over as soon as it reads again.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_store_hands_no_held_delivery_to_another_worker() {
    const LEASE: Duration = Duration::from_millis(2000);
    let inbox = Arc::new(Partitioned {
        inner: MemoryInbox::new(),
        down: false.into(),
        beats_down: false.into(),
    });
    inbox.enqueue(&Delivery::new("held", "{}")).await.unwrap();
    let gate = Arc::new(tokio::sync::Notify::new());
    let started = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for n in 0..2 {
        workers.push(held_at_the_gate(inbox.clone(), n, LEASE, &gate, &started));
    }
    until(|| started.load(Ordering::SeqCst) == 1).await;
    tokio::time::sleep(LEASE / 2).await;

    // The holder's path to the store goes first (the other worker sees
    // its heartbeat stop, for less than a lease), then the whole store.
    inbox.beats_down.store(true, Ordering::SeqCst);
    tokio::time::sleep(LEASE / 2).await;
    inbox.down.store(true, Ordering::SeqCst);
    tokio::time::sleep(LEASE * 2).await;
    inbox.down.store(false, Ordering::SeqCst);
    tokio::time::sleep(LEASE / 2).await;
    inbox.beats_down.store(false, Ordering::SeqCst);
    tokio::time::sleep(LEASE * 2).await;
    assert_eq!(
        started.load(Ordering::SeqCst),
        1,
        "taken over while its worker ran it"
    );

    gate.notify_waiters();
    let processed = || workers.iter().map(|w| w.counts().processed).sum::<u64>();
    until(|| processed() == 1).await;
    let taken_over: u64 = workers.iter().map(|w| w.counts().taken_over).sum();
    for worker in workers {
        worker.shutdown().await;
    }
    assert_eq!(taken_over, 0);
}

/// With the `metrics` feature: enqueues, refusals, completions, retries
/// and dead letters are counted, the enqueue latency is a histogram, and
/// the worker publishes depth, in-flight and dead letters.
#[cfg(feature = "metrics")]
#[tokio::test]
async fn the_inbox_is_visible_in_the_metrics() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    // Thread-local: the server, the worker and this test share the
    // current-thread runtime, and the memory inbox needs no other thread.
    let _guard = metrics::set_default_local_recorder(&recorder);
    let inbox = Arc::new(MemoryInbox::new().with_capacity(1));
    let addr = support::serve(app(inbox.clone())).await;
    assert_eq!(deliver(addr, "m1").await, StatusCode::ACCEPTED);
    assert_eq!(deliver(addr, "m2").await, StatusCode::SERVICE_UNAVAILABLE);
    let runs = Runs::default();
    let worker = counting_worker(inbox.clone(), &runs)
        .lease(Duration::from_millis(200))
        .spawn();
    until(|| {
        let text = handle.render();
        text.contains(r#"webhook_inbox_events_total{event="processed"} 1"#)
            && text.contains("webhook_inbox_in_flight 0")
            && text.contains("webhook_inbox_depth 0")
    })
    .await;
    worker.shutdown().await;
    // A delivery failing both its attempts: one retry, one dead letter.
    inbox.enqueue(&Delivery::new("bad", "{}")).await.unwrap();
    let failing = Worker::from_fn(inbox, |_: Delivery| async { Err::<(), _>("no") })
        .max_attempts(2)
        .backoff(Duration::from_millis(1), Duration::from_millis(1))
        .poll_interval(Duration::from_millis(5))
        .lease(Duration::from_millis(200))
        .spawn();
    until(|| {
        let text = handle.render();
        text.contains(r#"webhook_inbox_events_total{event="retry"} 1"#)
            && text.contains(r#"webhook_inbox_events_total{event="dead_lettered"} 1"#)
            && text.contains("webhook_inbox_dead_letters 1")
    })
    .await;
    failing.shutdown().await;
    let text = handle.render();
    for line in [
        r#"webhook_inbox_events_total{event="enqueued"} 1"#,
        r#"webhook_inbox_events_total{event="refused"} 1"#,
        "webhook_inbox_enqueue_seconds",
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
}

/// Worker `w{n}` (lease `lease`) whose handler counts its start in `started`, then waits
/// at `gate` until the test opens it.
fn held_at_the_gate(
    inbox: Arc<dyn Inbox>,
    n: usize,
    lease: Duration,
    gate: &Arc<tokio::sync::Notify>,
    started: &Arc<AtomicUsize>,
) -> WorkerHandle {
    let (gate, started) = (Arc::clone(gate), Arc::clone(started));
    Worker::from_fn(inbox, move |_: Delivery| {
        started.fetch_add(1, Ordering::SeqCst);
        let gate = Arc::clone(&gate);
        async move {
            gate.notified().await;
            Ok::<_, std::convert::Infallible>(())
        }
    })
    .name(format!("w{n}"))
    .lease(lease)
    .poll_interval(Duration::from_millis(20))
    .spawn()
}
