//! The idempotency layer through a real HTTP server: exactly-once handling,
//! release on failure, key sources, namespacing, store failures, and the
//! memory bound.

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
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::Full;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tower_service::Service;
use tower_webhook::body::BufferedBody;
use tower_webhook::idempotency::{
    IdempotencyLayer, IdempotencyStore, KeySource, MemoryStore, Reservation, StoredOutcome,
    REPLAYED_HEADER,
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

    fn answer_with(&self, status: StatusCode) {
        self.status.store(status.as_u16(), Ordering::SeqCst);
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
async fn a_failed_handler_runs_again_and_a_successful_one_does_not() {
    let handler = Handler::new();
    let addr = serve(IdempotencyLayer::new(), &handler).await;

    handler.answer_with(StatusCode::INTERNAL_SERVER_ERROR);
    let reply = send(delivery(addr, "msg_retry")).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(handler.runs(), 1);

    // The sender retries: the key was released, so the handler runs again.
    handler.answer_with(StatusCode::OK);
    let reply = send(delivery(addr, "msg_retry")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(!is_replayed(&reply));
    assert_eq!(handler.runs(), 2);

    // And once more: acknowledged without the handler.
    let reply = send(delivery(addr, "msg_retry")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(is_replayed(&reply));
    assert_eq!(
        seen(&reply, "x-seen-extension").as_deref(),
        Some("duplicate")
    );
    assert_eq!(seen(&reply, "x-seen-context").as_deref(), Some("duplicate"));
    assert_eq!(seen(&reply, "x-seen-key").as_deref(), Some("msg_retry"));
    assert_eq!(handler.runs(), 2);
}

#[tokio::test]
async fn client_errors_complete_except_transient_ones() {
    let handler = Handler::new();
    let addr = serve(IdempotencyLayer::new().replay_stored_status(), &handler).await;

    // 429 is transient: released.
    handler.answer_with(StatusCode::TOO_MANY_REQUESTS);
    send(delivery(addr, "msg_4xx")).await;
    // 422 is the handler's verdict on the bytes: completed, and replayed.
    handler.answer_with(StatusCode::UNPROCESSABLE_ENTITY);
    let reply = send(delivery(addr, "msg_4xx")).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!is_replayed(&reply));
    handler.answer_with(StatusCode::OK);
    let reply = send(delivery(addr, "msg_4xx")).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(is_replayed(&reply));
    assert_eq!(handler.runs(), 2);

    // Opting out: a 4xx releases the key too.
    let handler = Handler::new();
    let addr = serve(IdempotencyLayer::new().release_on_client_error(), &handler).await;
    handler.answer_with(StatusCode::UNPROCESSABLE_ENTITY);
    send(delivery(addr, "msg_4xx")).await;
    handler.answer_with(StatusCode::OK);
    let reply = send(delivery(addr, "msg_4xx")).await;
    assert!(!is_replayed(&reply));
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
async fn key_from_a_json_body_field() {
    let handler = Handler::new();
    let addr = serve(IdempotencyLayer::from_json_field("/id"), &handler).await;
    let event = |body: &'static str| {
        post_to(addr, "/hook")
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .unwrap()
    };

    assert_eq!(
        send(event(r#"{"id":"evt_1","n":1}"#)).await.status,
        StatusCode::OK
    );
    let reply = send(event(r#"{"n":2,"id":"evt_1"}"#)).await;
    assert!(is_replayed(&reply));
    assert_eq!(seen(&reply, "x-seen-key").as_deref(), Some("evt_1"));
    assert!(!is_replayed(&send(event(r#"{"id":"evt_2"}"#)).await));
    assert_eq!(handler.runs(), 2);

    let reply = send(event(r#"{"object":"event"}"#)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        seen(&reply, "x-seen-context").as_deref(),
        Some("payload_incomplete")
    );
    assert_eq!(
        send(event("not json")).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(handler.runs(), 2);
}

#[tokio::test]
async fn header_falls_back_to_body() {
    let handler = Handler::new();
    let layer =
        IdempotencyLayer::from_unsigned_header(HeaderName::from_static("x-github-delivery"))
            .or_json_field("delivery_id");
    assert_eq!(
        layer.key_sources(),
        IdempotencyLayer::from_sources([
            KeySource::UnsignedHeader(HeaderName::from_static("x-github-delivery")),
            KeySource::json_field("/delivery_id"),
        ])
        .key_sources()
    );
    let addr = serve(layer, &handler).await;
    let reply = send(
        post_to(addr, "/hook")
            .header("x-github-delivery", "gh-1")
            .body(Full::new(Bytes::from_static(
                br#"{"delivery_id":"body-1"}"#,
            )))
            .unwrap(),
    )
    .await;
    assert_eq!(seen(&reply, "x-seen-key").as_deref(), Some("gh-1"));
    let reply = send(
        post_to(addr, "/hook")
            .body(Full::new(Bytes::from_static(
                br#"{"delivery_id":"body-1"}"#,
            )))
            .unwrap(),
    )
    .await;
    assert_eq!(seen(&reply, "x-seen-key").as_deref(), Some("body-1"));
    assert_eq!(handler.runs(), 2);
}

#[tokio::test]
async fn tenants_and_routes_do_not_share_keys() {
    let handler = Handler::new();
    let addr = serve(IdempotencyLayer::new(), &handler).await;
    let from = |tenant: &str, path: &str| {
        post_to(addr, path)
            .header("webhook-id", "msg_shared")
            .header("x-test-tenant", tenant)
            .body(Full::new(Bytes::new()))
            .unwrap()
    };

    assert!(!is_replayed(&send(from("acme", "/hook")).await));
    assert!(!is_replayed(&send(from("globex", "/hook")).await));
    assert!(!is_replayed(&send(from("acme", "/other")).await));
    assert_eq!(handler.runs(), 3);
    assert!(is_replayed(&send(from("acme", "/hook")).await));
    assert!(is_replayed(&send(from("globex", "/hook")).await));
    assert_eq!(handler.runs(), 3);

    // One namespace for both routes: the same delivery on either runs once.
    let handler = Handler::new();
    let addr = serve(IdempotencyLayer::new().namespace("github"), &handler).await;
    let on = |path: &str| {
        post_to(addr, path)
            .header("webhook-id", "msg_routes")
            .body(Full::new(Bytes::new()))
            .unwrap()
    };
    assert!(!is_replayed(&send(on("/hook")).await));
    assert!(is_replayed(&send(on("/other")).await));
    assert_eq!(handler.runs(), 1);
}

#[tokio::test]
async fn a_missing_key_is_refused_unless_allowed() {
    let handler = Handler::new();
    let addr = serve(IdempotencyLayer::new(), &handler).await;
    let keyless = || {
        post_to(addr, "/hook")
            .body(Full::new(Bytes::new()))
            .unwrap()
    };
    let reply = send(keyless()).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        seen(&reply, "x-seen-extension").as_deref(),
        Some("payload_incomplete")
    );
    assert_eq!(handler.runs(), 0);

    let addr = serve(IdempotencyLayer::new().allow_missing_key(), &handler).await;
    let keyless = || {
        post_to(addr, "/hook")
            .body(Full::new(Bytes::new()))
            .unwrap()
    };
    assert_eq!(send(keyless()).await.status, StatusCode::OK);
    assert_eq!(send(keyless()).await.status, StatusCode::OK);
    // Unprotected: every copy runs.
    assert_eq!(handler.runs(), 2);
}

#[tokio::test]
async fn overlong_keys_are_hashed() {
    let handler = Handler::new();
    let addr = serve(IdempotencyLayer::new(), &handler).await;
    let long = "k".repeat(4000);
    let reply = send(delivery(addr, &long)).await;
    assert_eq!(reply.status, StatusCode::OK);
    let key = seen(&reply, "x-seen-key").unwrap();
    assert!(key.starts_with("sha256:") && key.len() == 7 + 64, "{key}");
    assert!(is_replayed(&send(delivery(addr, &long)).await));
    let other = format!("{long}x");
    assert!(!is_replayed(&send(delivery(addr, &other)).await));
    assert_eq!(handler.runs(), 2);
}

#[tokio::test]
async fn a_failing_store_fails_closed_unless_told_to_fail_open() {
    let handler = Handler::new();
    let addr = serve(
        IdempotencyLayer::new().store(support::BrokenStore),
        &handler,
    )
    .await;
    let reply = send(delivery(addr, "msg_store")).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(reply.headers.contains_key(http::header::RETRY_AFTER));
    assert_eq!(
        seen(&reply, "x-seen-context").as_deref(),
        Some("store_unavailable")
    );
    assert_eq!(handler.runs(), 0);

    let layer = IdempotencyLayer::new()
        .store(support::BrokenStore)
        .fail_open();
    let addr = serve(layer, &handler).await;
    assert_eq!(
        send(delivery(addr, "msg_store")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        send(delivery(addr, "msg_store")).await.status,
        StatusCode::OK
    );
    assert_eq!(handler.runs(), 2);
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
