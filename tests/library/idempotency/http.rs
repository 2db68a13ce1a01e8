//! The idempotency layer through a real HTTP server: exactly-once handling
//! of concurrent copies, a handler's error, and the memory bound. The
//! layer's decisions (release on failure, key sources, namespacing, store
//! failures) are unit tests next to the code, in `src/idempotency/tests.rs`.

use crate::support;

use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request as AxumRequest;
use axum::middleware::{self, Next};
use axum::response::Response as AxumResponse;
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::Full;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tower_service::Service;
use tower_webhook::body::BufferedBody;
use tower_webhook::idempotency::{
    IdempotencyLayer, IdempotencyStore, MemoryStore, Reservation, StoredOutcome, REPLAYED_HEADER,
};
use tower_webhook::{Answer, Reason, WebhookContext};

use support::{is_replayed, post as post_to, send, Reply};

/// The handler: counts its runs, optionally waits at a gate, answers with
/// the current `status`.
#[derive(Clone)]
struct Handler {
    runs: Arc<AtomicUsize>,
    status: Arc<AtomicU16>,
    gate: Option<Arc<Semaphore>>,
}

impl Handler {
    fn new() -> Self {
        Self {
            runs: Arc::new(AtomicUsize::new(0)),
            status: Arc::new(AtomicU16::new(200)),
            gate: None,
        }
    }

    fn gated(gate: Arc<Semaphore>) -> Self {
        Self {
            gate: Some(gate),
            ..Self::new()
        }
    }

    fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }

    async fn handle(self) -> StatusCode {
        self.runs.fetch_add(1, Ordering::SeqCst);
        if let Some(gate) = &self.gate {
            let _permit = gate.acquire().await.unwrap();
        }
        StatusCode::from_u16(self.status.load(Ordering::SeqCst)).unwrap()
    }
}

/// What an outer layer (audit, in the real stack) sees: the reason (or the
/// answer's kind) in the response extensions and in the context, and the
/// key in the context.
/// Also plays the tenant resolver, from a test header.
async fn observe(mut request: AxumRequest, next: Next) -> AxumResponse {
    let context = WebhookContext::of(&mut request);
    if let Some(tenant) = header(&request, "x-test-tenant") {
        context.set_tenant(tenant);
    }
    let mut response = next.run(request).await;
    let extension = response
        .extensions()
        .get::<Reason>()
        .map(|reason| reason.as_str())
        .or(Answer::of(&response).map(Answer::kind));
    let verification = context.snapshot();
    let headers = response.headers_mut();
    if let Some(name) = extension {
        headers.insert("x-seen-extension", HeaderValue::from_static(name));
    }
    let recorded = verification.rejection.map(|reason| reason.as_str());
    if let Some(name) = recorded.or(verification.answer) {
        headers.insert("x-seen-context", HeaderValue::from_static(name));
    }
    if let Some(key) = verification.idempotency_key {
        headers.insert("x-seen-key", HeaderValue::from_str(&key).unwrap());
    }
    response
}

fn header(request: &AxumRequest, name: &str) -> Option<String> {
    request
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn serve(layer: IdempotencyLayer, handler: &Handler) -> std::net::SocketAddr {
    let on_a = handler.clone();
    let on_b = handler.clone();
    let router = Router::new()
        .route("/hook", post(move || on_a.clone().handle()))
        .route("/other", post(move || on_b.clone().handle()))
        .layer(layer)
        .layer(middleware::from_fn(observe));
    support::serve(router).await
}

fn delivery(addr: std::net::SocketAddr, id: &str) -> Request<Full<Bytes>> {
    post_to(addr, "/hook")
        .header("webhook-id", id)
        .body(Full::new(Bytes::from_static(b"{\"type\":\"ping\"}")))
        .unwrap()
}

fn seen(reply: &Reply, name: &str) -> Option<String> {
    reply
        .headers
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_thousand_concurrent_copies_run_the_handler_once() {
    let gate = Arc::new(Semaphore::new(0));
    let handler = Handler::gated(Arc::clone(&gate));
    let addr = serve(IdempotencyLayer::new(), &handler).await;

    // Phase 1: the first copy holds the handler at the gate, so every other
    // copy arrives while it is in flight.
    let mut copies = JoinSet::new();
    for _ in 0..1000 {
        copies.spawn(send(delivery(addr, "msg_flood")));
    }
    let mut in_flight = 0;
    while in_flight < 999 {
        let reply = copies.join_next().await.unwrap().unwrap();
        assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text());
        assert!(reply.headers.contains_key(http::header::RETRY_AFTER));
        assert_eq!(seen(&reply, "x-seen-context").as_deref(), Some("in_flight"));
        in_flight += 1;
    }
    assert_eq!(handler.runs(), 1);
    gate.add_permits(10_000);
    let first = copies.join_next().await.unwrap().unwrap();
    assert_eq!(first.status, StatusCode::OK);
    assert!(!is_replayed(&first));
    assert!(copies.join_next().await.is_none());

    // Phase 2: the delivery is completed; 1,000 more copies are acknowledged.
    for _ in 0..1000 {
        copies.spawn(send(delivery(addr, "msg_flood")));
    }
    while let Some(reply) = copies.join_next().await {
        let reply = reply.unwrap();
        assert_eq!(reply.status, StatusCode::OK);
        assert!(is_replayed(&reply));
    }
    assert_eq!(handler.runs(), 1);

    // Phase 3: a fresh delivery, no gate: copies race the first one freely.
    let mut counts = (0, 0, 0); // (handled, in flight, acknowledged)
    for _ in 0..1000 {
        copies.spawn(send(delivery(addr, "msg_race")));
    }
    while let Some(reply) = copies.join_next().await {
        let reply = reply.unwrap();
        match (reply.status, is_replayed(&reply)) {
            (StatusCode::OK, false) => counts.0 += 1,
            (StatusCode::CONFLICT, false) => counts.1 += 1,
            (StatusCode::OK, true) => counts.2 += 1,
            other => panic!("unexpected reply {other:?}"),
        }
    }
    println!(
        "racing copies: handled {}, 409 in flight {}, acknowledged {}",
        counts.0, counts.1, counts.2
    );
    assert_eq!(counts.0, 1);
    assert_eq!(counts.1 + counts.2, 999);
    assert_eq!(handler.runs(), 2);
}

#[tokio::test]
async fn a_service_error_releases_the_key() {
    let store = MemoryStore::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let inner = tower::service_fn(move |_: Request<BufferedBody>| {
        let call = counted.fetch_add(1, Ordering::SeqCst);
        async move {
            if call == 0 {
                Err("handler crashed")
            } else {
                Ok(Response::new(Full::new(Bytes::new())))
            }
        }
    });
    let mut service =
        tower_layer::Layer::layer(&IdempotencyLayer::new().store(store.clone()), inner);
    let request = || {
        Request::post("/hook")
            .header("webhook-id", "msg_error")
            .body(Full::new(Bytes::new()))
            .unwrap()
    };
    std::future::poll_fn(|cx| Service::<Request<Full<Bytes>>>::poll_ready(&mut service, cx))
        .await
        .unwrap();
    assert!(service.call(request()).await.is_err());
    std::future::poll_fn(|cx| Service::<Request<Full<Bytes>>>::poll_ready(&mut service, cx))
        .await
        .unwrap();
    let response = service.call(request()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get(REPLAYED_HEADER).is_none());
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn ttl_must_cover_the_replay_window() {
    let layer = IdempotencyLayer::new().ttl(Duration::from_secs(60));
    assert!(layer
        .check_against_replay_window(Duration::from_secs(60))
        .is_ok());
    let error = layer
        .check_against_replay_window(Duration::from_secs(300))
        .unwrap_err();
    assert!(error.to_string().contains("shorter than the replay window"));
    assert!(IdempotencyLayer::new()
        .check_against_replay_window(Duration::from_secs(300))
        .is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_unique_keys_stays_within_capacity() {
    const CAPACITY: u64 = 10_000;
    const KEYS: usize = 100_000;
    let store = MemoryStore::with_capacity(CAPACITY);
    let lock = Duration::from_secs(60);
    let ttl = Duration::from_secs(24 * 3600);
    let ok = StoredOutcome::new(StatusCode::OK);
    let mut writers = JoinSet::new();
    for writer in 0..4 {
        let store = store.clone();
        writers.spawn(async move {
            for n in (writer..KEYS).step_by(4) {
                let key = format!("t-|s5:/hook|k:flood-{n}");
                let Reservation::Acquired(token) = store.reserve(&key, lock).await.unwrap() else {
                    panic!("unique key {n} was not free");
                };
                assert!(store.complete(&key, &token, ok, ttl).await.unwrap());
            }
        });
    }
    while let Some(done) = writers.join_next().await {
        done.unwrap();
    }
    let entries = store.entry_count();
    println!("{KEYS} unique keys, capacity {CAPACITY}: {entries} entries held");
    assert!(
        entries <= CAPACITY,
        "{entries} entries > capacity {CAPACITY}"
    );
    assert!(entries > 0);
}
