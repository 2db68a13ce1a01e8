//! The idempotency layer's decisions, one request at a time through the
//! layer (`oneshot`, the handler a `service_fn`): release on failure, key
//! sources, namespacing, store failures. Moved from the HTTP tests
//! (`tests/library/idempotency/http.rs`), which keep a thousand concurrent
//! copies over real connections.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::Full;
use tower::{Layer, ServiceExt};

use super::{
    Holder, IdempotencyLayer, IdempotencyStore, KeySource, MemoryStore, Reservation, StoreError,
    StoreFuture, StoredOutcome, Token, REPLAYED_HEADER,
};
use crate::body::BufferedBody;
use crate::test_support::{read, Reply};
use crate::WebhookContext;

/// The handler: counts its runs, answers with the current `status`.
#[derive(Clone)]
struct Handler {
    runs: Arc<AtomicUsize>,
    status: Arc<AtomicU16>,
}

impl Handler {
    fn new() -> Self {
        Self {
            runs: Arc::new(AtomicUsize::new(0)),
            status: Arc::new(AtomicU16::new(200)),
        }
    }

    fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }

    fn answer_with(&self, status: StatusCode) {
        self.status.store(status.as_u16(), Ordering::SeqCst);
    }

    fn handle(&self) -> Response<Full<Bytes>> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        let mut response = Response::new(Full::default());
        *response.status_mut() = StatusCode::from_u16(self.status.load(Ordering::SeqCst)).unwrap();
        response
    }
}

/// The layer and the handler behind it. A request made by [`post_to`]
/// carries it (as an extension), so [`send`] knows where to go.
#[derive(Clone)]
struct App {
    layer: IdempotencyLayer,
    handler: Handler,
}

async fn serve(layer: IdempotencyLayer, handler: &Handler) -> App {
    App {
        layer,
        handler: handler.clone(),
    }
}

/// A `POST` to `path` of `app`.
fn post_to(app: &App, path: &str) -> http::request::Builder {
    Request::post(path).extension(app.clone())
}

fn delivery(app: &App, id: &str) -> Request<Full<Bytes>> {
    post_to(app, "/hook")
        .header("webhook-id", id)
        .body(Full::new(Bytes::from_static(b"{\"type\":\"ping\"}")))
        .unwrap()
}

/// `request` through its app's layer. Plays what an outer layer (audit,
/// in the real stack) sees, in `x-seen-*` headers of the reply: the reason
/// or the answer's kind in the response extensions and in the context, and
/// the key in the context. Also plays the tenant resolver, from a test
/// header.
async fn send(mut request: Request<Full<Bytes>>) -> Reply {
    let app = request
        .extensions_mut()
        .remove::<App>()
        .expect("a request made by post_to");
    let context = WebhookContext::of(&mut request);
    if let Some(tenant) = header(request.headers(), "x-test-tenant") {
        context.set_tenant(tenant);
    }
    let handler = app.handler.clone();
    let service = app
        .layer
        .layer(tower::service_fn(move |_: Request<BufferedBody>| {
            let response = handler.handle();
            async move { Ok::<_, Infallible>(response) }
        }));
    let mut reply = read(service.oneshot(request).await.unwrap()).await;
    let extension = reply.reason.map(|reason| reason.as_str()).or(reply.answer);
    let verification = context.snapshot();
    let headers = &mut reply.headers;
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
    reply
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn seen(reply: &Reply, name: &str) -> Option<String> {
    reply
        .headers
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

/// Whether the layer answered without running the handler.
fn is_replayed(reply: &Reply) -> bool {
    reply
        .headers
        .get(REPLAYED_HEADER)
        .is_some_and(|v| v == "true")
}

/// A store whose backend is always down, like a Redis that went away.
struct BrokenStore;

fn refused<'a, T: Send + 'a>() -> StoreFuture<'a, T> {
    Box::pin(async { Err(StoreError::backend("connection refused")) })
}

impl IdempotencyStore for BrokenStore {
    fn reserve<'a>(&'a self, _: &'a str, _: Duration) -> StoreFuture<'a, Reservation> {
        refused()
    }

    fn complete<'a>(
        &'a self,
        _: &'a str,
        _: &'a Token,
        _: StoredOutcome,
        _: Duration,
    ) -> StoreFuture<'a, bool> {
        refused()
    }

    fn release<'a>(&'a self, _: &'a str, _: &'a Token) -> StoreFuture<'a, bool> {
        refused()
    }

    fn renew<'a>(&'a self, _: &'a str, _: &'a Token, _: Duration) -> StoreFuture<'a, bool> {
        refused()
    }
}

#[tokio::test]
async fn a_failed_handler_runs_again_and_a_successful_one_does_not() {
    let handler = Handler::new();
    let addr = serve(IdempotencyLayer::new(), &handler).await;

    handler.answer_with(StatusCode::INTERNAL_SERVER_ERROR);
    let reply = send(delivery(&addr, "msg_retry")).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(handler.runs(), 1);

    // The sender retries: the key was released, so the handler runs again.
    handler.answer_with(StatusCode::OK);
    let reply = send(delivery(&addr, "msg_retry")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(!is_replayed(&reply));
    assert_eq!(handler.runs(), 2);

    // And once more: acknowledged without the handler.
    let reply = send(delivery(&addr, "msg_retry")).await;
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
    send(delivery(&addr, "msg_4xx")).await;
    // 422 is the handler's verdict on the bytes: completed, and replayed.
    handler.answer_with(StatusCode::UNPROCESSABLE_ENTITY);
    let reply = send(delivery(&addr, "msg_4xx")).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!is_replayed(&reply));
    handler.answer_with(StatusCode::OK);
    let reply = send(delivery(&addr, "msg_4xx")).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(is_replayed(&reply));
    assert_eq!(handler.runs(), 2);

    // Opting out: a 4xx releases the key too.
    let handler = Handler::new();
    let addr = serve(IdempotencyLayer::new().release_on_client_error(), &handler).await;
    handler.answer_with(StatusCode::UNPROCESSABLE_ENTITY);
    send(delivery(&addr, "msg_4xx")).await;
    handler.answer_with(StatusCode::OK);
    let reply = send(delivery(&addr, "msg_4xx")).await;
    assert!(!is_replayed(&reply));
    assert_eq!(handler.runs(), 2);
}

#[tokio::test]
async fn key_from_a_json_body_field() {
    let handler = Handler::new();
    let addr = serve(IdempotencyLayer::from_json_field("/id"), &handler).await;
    let event = |body: &'static str| {
        post_to(&addr, "/hook")
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
        post_to(&addr, "/hook")
            .header("x-github-delivery", "gh-1")
            .body(Full::new(Bytes::from_static(
                br#"{"delivery_id":"body-1"}"#,
            )))
            .unwrap(),
    )
    .await;
    assert_eq!(seen(&reply, "x-seen-key").as_deref(), Some("gh-1"));
    let reply = send(
        post_to(&addr, "/hook")
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
        post_to(&addr, path)
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
        post_to(&addr, path)
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
        post_to(&addr, "/hook")
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
        post_to(&addr, "/hook")
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
    let reply = send(delivery(&addr, &long)).await;
    assert_eq!(reply.status, StatusCode::OK);
    let key = seen(&reply, "x-seen-key").unwrap();
    assert!(key.starts_with("sha256:") && key.len() == 7 + 64, "{key}");
    assert!(is_replayed(&send(delivery(&addr, &long)).await));
    let other = format!("{long}x");
    assert!(!is_replayed(&send(delivery(&addr, &other)).await));
    assert_eq!(handler.runs(), 2);
}

#[tokio::test]
async fn a_failing_store_fails_closed_unless_told_to_fail_open() {
    let handler = Handler::new();
    let addr = serve(IdempotencyLayer::new().store(BrokenStore), &handler).await;
    let reply = send(delivery(&addr, "msg_store")).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(reply.headers.contains_key(http::header::RETRY_AFTER));
    assert_eq!(
        seen(&reply, "x-seen-context").as_deref(),
        Some("store_unavailable")
    );
    assert_eq!(handler.runs(), 0);

    let layer = IdempotencyLayer::new().store(BrokenStore).fail_open();
    let addr = serve(layer, &handler).await;
    assert_eq!(
        send(delivery(&addr, "msg_store")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        send(delivery(&addr, "msg_store")).await.status,
        StatusCode::OK
    );
    assert_eq!(handler.runs(), 2);
}

/// A store where every key, the first time anyone asks, is found reserved
/// by a replica that died at once: never renewed, never released.
struct HeldByTheDead(MemoryStore);

impl IdempotencyStore for HeldByTheDead {
    fn reserve<'a>(&'a self, key: &'a str, lock_ttl: Duration) -> StoreFuture<'a, Reservation> {
        Box::pin(async move {
            match self.0.reserve(key, lock_ttl).await? {
                // The dead replica's: the caller finds it in flight.
                Reservation::Acquired(_) => self.0.reserve(key, lock_ttl).await,
                found => Ok(found),
            }
        })
    }

    fn complete<'a>(
        &'a self,
        key: &'a str,
        token: &'a Token,
        outcome: StoredOutcome,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        self.0.complete(key, token, outcome, ttl)
    }

    fn release<'a>(&'a self, key: &'a str, token: &'a Token) -> StoreFuture<'a, bool> {
        self.0.release(key, token)
    }

    fn renew<'a>(
        &'a self,
        key: &'a str,
        token: &'a Token,
        lock_ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        self.0.renew(key, token, lock_ttl)
    }

    fn take_over<'a>(
        &'a self,
        key: &'a str,
        holder: &'a Holder,
        lock_ttl: Duration,
    ) -> StoreFuture<'a, Reservation> {
        self.0.take_over(key, holder, lock_ttl)
    }
}

/// A replica died holding more deliveries than the layer watches holders
/// (4096), and copies of ever more of them keep coming, more between two
/// copies of one delivery than the watch has room for. The delivery is
/// still taken over once watched for a lock TTL: a full watch used to
/// forget every sighting, so none ever lasted a lock TTL.
#[tokio::test]
async fn a_flood_of_held_keys_does_not_stop_a_takeover() {
    let lock_ttl = Duration::from_millis(600);
    let handler = Handler::new();
    let layer = IdempotencyLayer::new()
        .lock_ttl(lock_ttl)
        .store(HeldByTheDead(MemoryStore::new()));
    let app = serve(layer.clone(), &handler).await;
    let mut others = 0..;
    let mut copies = 0;
    let reply = loop {
        copies += 1;
        let reply = send(delivery(&app, "msg_dead")).await;
        if reply.status != StatusCode::CONFLICT {
            break reply;
        }
        // Generous: taken over on the second or third copy unless the
        // machine stalls for a renewal period (then the watch restarts).
        assert!(copies < 20, "not taken over after {copies} copies");
        for _ in 0..=crate::lease_watch::MAX_WATCHED {
            let other = format!("msg_{}", others.next().unwrap());
            let reply = send(delivery(&app, &other)).await;
            assert_eq!(reply.status, StatusCode::CONFLICT);
        }
        // Copies further apart than the renewal period, as a sender's
        // retries are: meanwhile the layer's pings show the store answering.
        tokio::time::sleep(lock_ttl / 2).await;
    };
    println!("taken over on copy {copies}");
    assert_eq!(reply.status, StatusCode::OK);
    assert!(!is_replayed(&reply));
    assert_eq!(handler.runs(), 1);
    let counts = layer.counts();
    assert_eq!((counts.takeovers, counts.completed), (1, 1), "{counts:?}");
    assert!(copies >= 2, "never before a lock TTL of watching");
}
