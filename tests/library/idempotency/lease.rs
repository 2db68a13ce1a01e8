//! The reservation as a lease, with the in-memory store, through a real
//! server: renewed while a long handler runs, released at once when the
//! handler panics or the request is dropped, and released (not completed)
//! by a gRPC error, whether its `grpc-status` comes in the headers or in the
//! trailers.

use crate::support;

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::sync::Semaphore;
use tower::ServiceExt;
use tower_webhook::audit::{AuditEvent, AuditLayer, Outcome};
use tower_webhook::body::BufferedBody;
use tower_webhook::idempotency::{IdempotencyLayer, REPLAYED_HEADER};
use tower_webhook::Reason;

use support::{is_replayed, post as post_to, send, Reply};

/// The layer under test: keys from the `webhook-id` header.
fn layer() -> IdempotencyLayer {
    IdempotencyLayer::from_unsigned_header(HeaderName::from_static("webhook-id"))
}

fn delivery(addr: SocketAddr, id: &str) -> Request<Full<Bytes>> {
    post_to(addr, "/hook")
        .header("webhook-id", id)
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap()
}

type Events = Arc<Mutex<Vec<AuditEvent>>>;

fn recording_audit(events: &Events) -> AuditLayer {
    let events = Arc::clone(events);
    AuditLayer::without_sinks().sink(move |event: &AuditEvent| {
        events.lock().unwrap().push(event.clone());
    })
}

/// Send the sender's retry every 100 ms, ten times at most (one second), until
/// the handler runs. Without a prompt release every attempt gets `409` for
/// the lock TTL (60 s here).
async fn retry_within_a_second(addr: SocketAddr, id: &str) -> (Reply, u32) {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let reply = send(delivery(addr, id)).await;
        if reply.status != StatusCode::CONFLICT || attempts == 10 {
            return (reply, attempts);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_releases_its_reservation_at_once() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let idempotency = layer();
    let events = Events::default();
    let router = Router::new()
        .route(
            "/hook",
            post(move || {
                let run = counted.fetch_add(1, Ordering::SeqCst);
                async move {
                    assert!(run > 0, "the handler fails on its first run");
                    StatusCode::OK
                }
            }),
        )
        .layer(idempotency.clone())
        .layer(recording_audit(&events));
    let addr = support::serve(router).await;

    // The panic takes the connection down: the client sees no answer.
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    assert!(client.request(delivery(addr, "msg_panic")).await.is_err());

    let (reply, attempts) = retry_within_a_second(addr, "msg_panic").await;
    assert_eq!(reply.status, StatusCode::OK, "after {attempts} attempt(s)");
    assert!(!is_replayed(&reply));
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    println!("the retry ran on attempt {attempts}");
    // Exactly once succeeds: the next copy is a duplicate.
    assert!(is_replayed(&send(delivery(addr, "msg_panic")).await));
    assert_eq!(runs.load(Ordering::SeqCst), 2);

    let counts = idempotency.counts();
    assert_eq!((counts.panicked, counts.completed), (1, 1));
    // The panicked request's event may come after a retry's `409`: it is
    // written when the runtime drops the request.
    let events = events.lock().unwrap();
    let panicked: Vec<_> = events
        .iter()
        .filter(|e| e.reason == Some(Reason::Panicked))
        .collect();
    assert_eq!(panicked.len(), 1, "{events:?}");
    assert_eq!(panicked[0].outcome, Outcome::Rejected);
    assert_eq!(panicked[0].event, "webhook.rejected");
    // Accepted: only the run that answered.
    assert_eq!(
        events
            .iter()
            .filter(|e| e.outcome == Outcome::Accepted)
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_hangs_up_mid_handler_releases_its_reservation_at_once() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    // The first run never finishes on its own: it waits for a permit that
    // never comes.
    let gate = Arc::new(Semaphore::new(0));
    let idempotency = layer();
    let events = Events::default();
    let router = Router::new()
        .route(
            "/hook",
            post(move || {
                let run = counted.fetch_add(1, Ordering::SeqCst);
                let gate = Arc::clone(&gate);
                async move {
                    if run == 0 {
                        let _permit = gate.acquire().await;
                    }
                    StatusCode::OK
                }
            }),
        )
        .layer(idempotency.clone())
        .layer(recording_audit(&events));
    let addr = support::serve(router).await;

    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let hung_up = tokio::time::timeout(
        Duration::from_millis(300),
        client.request(delivery(addr, "msg_gone")),
    )
    .await;
    assert!(hung_up.is_err(), "the first run must still be waiting");
    drop(client);
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    let (reply, attempts) = retry_within_a_second(addr, "msg_gone").await;
    assert_eq!(reply.status, StatusCode::OK, "after {attempts} attempt(s)");
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    println!("the retry ran on attempt {attempts}");
    assert!(is_replayed(&send(delivery(addr, "msg_gone")).await));

    assert_eq!(idempotency.counts().cancelled, 1);
    let events = events.lock().unwrap();
    let first = events
        .iter()
        .find(|e| e.cancelled)
        .expect("a cancelled event");
    assert_eq!(first.reason, Some(Reason::Cancelled));
    assert_eq!(first.outcome, Outcome::Rejected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_longer_than_the_lock_ttl_keeps_its_reservation() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let gate = Arc::new(Semaphore::new(0));
    let held = Arc::clone(&gate);
    let idempotency = layer().lock_ttl(Duration::from_millis(200));
    let router = Router::new()
        .route(
            "/hook",
            post(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                let gate = Arc::clone(&held);
                async move {
                    let _permit = gate.acquire().await;
                    StatusCode::OK
                }
            }),
        )
        .layer(idempotency.clone());
    let addr = support::serve(router).await;

    let first = tokio::spawn(send(delivery(addr, "msg_long")));
    // Copies arrive over five lock TTLs while the first run is held: without
    // renewal the reservation would lapse and a copy would run.
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let copy = send(delivery(addr, "msg_long")).await;
        assert_eq!(copy.status, StatusCode::CONFLICT, "{}", copy.text());
    }
    gate.add_permits(100);
    assert_eq!(first.await.unwrap().status, StatusCode::OK);
    assert!(is_replayed(&send(delivery(addr, "msg_long")).await));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let counts = idempotency.counts();
    assert!(counts.renewals >= 1, "{counts:?}");
    assert_eq!(counts.leases_lost, 0);
}

/// A gRPC-style answer: HTTP 200, one data frame, then trailers with
/// `grpc-status: code`.
fn grpc_answer(code: &'static str) -> Response<Frames> {
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from_static(code));
    let frames = vec![
        http_body::Frame::data(Bytes::from_static(b"\0\0\0\0\0")),
        http_body::Frame::trailers(trailers),
    ];
    let mut response = Response::new(Frames(frames.into()));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    response
}

/// A body of ready frames, trailers included.
struct Frames(VecDeque<http_body::Frame<Bytes>>);

impl http_body::Body for Frames {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.pop_front().map(Ok))
    }
}

fn grpc_request(id: &str) -> Request<Full<Bytes>> {
    Request::post("/pkg.Service/Method")
        .header(http::header::CONTENT_TYPE, "application/grpc")
        .header("webhook-id", id)
        .body(Full::new(Bytes::from_static(b"\0\0\0\0\0")))
        .unwrap()
}

#[tokio::test]
async fn a_grpc_error_in_the_trailers_releases_the_key() {
    // The handler fails with UNAVAILABLE (14) twice, then succeeds.
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let service = tower::Layer::layer(
        &layer(),
        tower::service_fn(move |_: Request<BufferedBody>| {
            let run = counted.fetch_add(1, Ordering::SeqCst);
            async move { Ok::<_, Infallible>(grpc_answer(if run < 2 { "14" } else { "0" })) }
        }),
    );

    for expected_runs in 1..=3 {
        let response = service
            .clone()
            .oneshot(grpc_request("msg_grpc"))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        // The trailers reach the client unchanged, after the outcome is
        // recorded.
        let collected = response.into_body().collect().await.unwrap();
        let code = if expected_runs < 3 { "14" } else { "0" };
        assert_eq!(collected.trailers().unwrap()["grpc-status"], code);
        assert_eq!(runs.load(Ordering::SeqCst), expected_runs);
    }
    // Completed by the OK answer: the next copy is acknowledged.
    let duplicate = service
        .clone()
        .oneshot(grpc_request("msg_grpc"))
        .await
        .unwrap();
    assert_eq!(duplicate.headers()[REPLAYED_HEADER], "true");
    assert_eq!(duplicate.headers()["grpc-status"], "0");
    assert_eq!(runs.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_grpc_body_dropped_before_its_trailers_releases_the_key() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let service = tower::Layer::layer(
        &layer(),
        tower::service_fn(move |_: Request<BufferedBody>| {
            counted.fetch_add(1, Ordering::SeqCst);
            async move { Ok::<_, Infallible>(grpc_answer("0")) }
        }),
    );
    let response = service
        .clone()
        .oneshot(grpc_request("msg_cut"))
        .await
        .unwrap();
    drop(response);
    // The release runs on the runtime; the retry finds the key free.
    let mut retry = service
        .clone()
        .oneshot(grpc_request("msg_cut"))
        .await
        .unwrap();
    for _ in 0..10 {
        if !retry.headers().contains_key("grpc-status") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        retry = service
            .clone()
            .oneshot(grpc_request("msg_cut"))
            .await
            .unwrap();
    }
    assert!(!retry.headers().contains_key(REPLAYED_HEADER));
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    retry.into_body().collect().await.unwrap();
    let duplicate = service
        .clone()
        .oneshot(grpc_request("msg_cut"))
        .await
        .unwrap();
    assert_eq!(duplicate.headers()[REPLAYED_HEADER], "true");
}

#[cfg(feature = "tonic")]
mod tonic_server {
    use super::*;
    use tokio::net::TcpListener;
    use tonic::transport::server::TcpIncoming;
    use tonic::transport::{Channel, Server};
    use tonic::Code;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;

    #[tokio::test]
    async fn a_tonic_error_releases_the_key_and_its_success_completes_it() {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (reporter, health) = tonic_health::server::health_reporter();
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&runs);
        let counting = tower::ServiceBuilder::new()
            .map_request(move |request: Request<BufferedBody>| {
                counted.fetch_add(1, Ordering::SeqCst);
                request
            })
            .service(health);
        tokio::spawn(async move {
            Server::builder()
                .layer(layer())
                .serve_with_incoming(counting, TcpIncoming::from(listener))
                .await
                .unwrap();
        });
        let channel = Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let check = || {
            let mut client = HealthClient::new(channel.clone());
            async move {
                let mut request = tonic::Request::new(HealthCheckRequest {
                    service: "billing".into(),
                });
                request
                    .metadata_mut()
                    .insert("webhook-id", "msg_tonic".parse().unwrap());
                client.check(request).await
            }
        };

        // Unknown service: tonic answers NOT_FOUND (grpc-status 5 in a
        // trailers-only answer). Not completed: the retry runs again.
        for expected_runs in 1..=2 {
            let status = check().await.unwrap_err();
            assert_eq!(status.code(), Code::NotFound, "{status:?}");
            assert_eq!(runs.load(Ordering::SeqCst), expected_runs);
        }
        reporter
            .set_service_status("billing", tonic_health::ServingStatus::Serving)
            .await;
        let served = check().await.unwrap().into_inner();
        assert_eq!(served.status, ServingStatus::Serving as i32);
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        // Completed: the next copy does not reach the service.
        let _ = check().await;
        assert_eq!(runs.load(Ordering::SeqCst), 3);
    }
}

#[tokio::test]
async fn a_timeout_around_the_service_releases_the_key_like_a_hang_up() {
    // What `TimeoutLayer` does: drop the response future when time is up.
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let idempotency = layer();
    let service = tower::Layer::layer(
        &idempotency,
        tower::service_fn(move |_: Request<BufferedBody>| {
            let run = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                if run == 0 {
                    std::future::pending::<()>().await;
                }
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
            }
        }),
    );
    let request = || {
        Request::post("/hook")
            .header("webhook-id", "msg_timeout")
            .body(Full::new(Bytes::from_static(b"{}")))
            .unwrap()
    };
    let timed_out = tokio::time::timeout(
        Duration::from_millis(50),
        service.clone().oneshot(request()),
    )
    .await;
    assert!(timed_out.is_err());

    let mut attempts = 0;
    let retry = loop {
        attempts += 1;
        let response = service.clone().oneshot(request()).await.unwrap();
        if response.status() != StatusCode::CONFLICT || attempts == 10 {
            break response;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        retry.status(),
        StatusCode::OK,
        "after {attempts} attempt(s)"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    assert_eq!(idempotency.counts().cancelled, 1);
}
