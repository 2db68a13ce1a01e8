//! What an adopter trips over, through a real server: a length limit
//! further out (tower-http's `RequestBodyLimitLayer`) answered as 413 like
//! axum does; a body-limit refusal that says which limit fired; audit events
//! with their true outcome (duplicates, gRPC codes), a timestamp, the
//! request id, and the seed's event names on request.

use crate::support;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, StatusCode};
use http_body::Frame;
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tower::ServiceBuilder;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestId, RequestId, SetRequestIdLayer};
use tower_webhook::audit::{AuditEvent, AuditLayer, EventNames, Outcome};
use tower_webhook::idempotency::IdempotencyLayer;
use tower_webhook::signature::SignatureLayer;
use tower_webhook::token::TokenLayer;
use tower_webhook::{Reason, Secret, WebhookStack};

const SECRET: &str = "It's a Secret to Everybody";

type Events = Arc<Mutex<Vec<AuditEvent>>>;

fn recording(events: &Events) -> AuditLayer {
    let events = Arc::clone(events);
    AuditLayer::without_sinks().sink(move |event: &AuditEvent| {
        events.lock().unwrap().push(event.clone());
    })
}

fn last(events: &Events) -> AuditEvent {
    events.lock().unwrap().last().cloned().expect("an event")
}

fn handler() -> axum::routing::MethodRouter {
    post(|body: Bytes| async move { format!("{} bytes", body.len()) })
}

fn github_headers(body: &[u8], id: &str) -> Vec<(HeaderName, HeaderValue)> {
    let mut headers = support::signed_headers("github", SECRET, body, 0, id);
    headers.push((
        HeaderName::from_static("x-github-delivery"),
        HeaderValue::from_str(id).unwrap(),
    ));
    headers
}

/// A body of unknown length, sent in `chunks` chunks of `size` bytes:
/// hyper sends it with `Transfer-Encoding: chunked`, so no
/// `Content-Length` lets a layer refuse it before reading.
struct Chunked {
    left: usize,
    size: usize,
}

impl http_body::Body for Chunked {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        self.left -= 1;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'a'; self.size])))))
    }
}

async fn send_chunked(addr: SocketAddr, path: &str, chunks: usize, size: usize) -> StatusCode {
    let client = Client::builder(TokioExecutor::new()).build_http::<Chunked>();
    let mut request = Request::post(format!("http://{addr}{path}"))
        .body(Chunked { left: chunks, size })
        .unwrap();
    // Any signature: the body limit fires before it is compared.
    request.headers_mut().insert(
        "x-hub-signature-256",
        HeaderValue::from_static(
            "sha256=0000000000000000000000000000000000000000000000000000000000000000",
        ),
    );
    let response = client.request(request).await.expect("a response");
    let status = response.status();
    let _ = response.into_body().collect().await;
    status
}

#[tokio::test]
async fn a_chunked_body_over_tower_http_request_body_limit_is_413_with_the_outer_limit_named() {
    let events = Events::default();
    let github = || SignatureLayer::github(Secret::new(SECRET).unwrap());
    // As an adopter writes it: the limit on the whole router (axum then
    // wraps the limit's error in its own), and on one route.
    let app = Router::new()
        .route(
            "/router",
            handler().layer(
                ServiceBuilder::new()
                    .layer(recording(&events))
                    .layer(github()),
            ),
        )
        .layer(RequestBodyLimitLayer::new(64 * 1024));
    let route = Router::new().route(
        "/route",
        handler().layer(
            ServiceBuilder::new()
                .layer(recording(&events))
                .layer(RequestBodyLimitLayer::new(64 * 1024))
                .layer(github()),
        ),
    );
    let addr = support::serve(app.merge(route)).await;

    for path in ["/router", "/route"] {
        // 100 KiB in 1 KiB chunks, against a 64 KiB outer limit.
        let status = send_chunked(addr, path, 100, 1024).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        let event = last(&events);
        assert_eq!(event.reason, Some(Reason::PayloadTooLarge), "{path}");
        assert_eq!(event.status, 413);
        let detail = event.detail.as_deref().expect("a detail");
        assert!(detail.contains("outer layer"), "{path}: {detail}");
        assert!(detail.contains("RequestBodyLimitLayer"), "{detail}");
    }
}

#[tokio::test]
async fn a_body_limit_refusal_names_the_limit_and_who_set_it_and_tells_the_client_nothing_more() {
    let events = Events::default();
    let github = || SignatureLayer::github(Secret::new(SECRET).unwrap());
    let stack = WebhookStack::new()
        .signature(github())
        .audit(recording(&events))
        .body_limit(4096)
        .build()
        .unwrap();
    let app = Router::new()
        .route(
            "/default",
            handler().layer(
                ServiceBuilder::new()
                    .layer(recording(&events))
                    .layer(github()),
            ),
        )
        .route("/stack", handler().layer(stack));
    let addr = support::serve(app).await;

    // A 2 MiB GitHub delivery against the 1 MiB default, with its length
    // declared: refused before a byte is read.
    let body = vec![b'{'; 2 * 1024 * 1024];
    let reply = support::post_with(addr, "/default", &github_headers(&body, "d-1"), &body).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        reply.text(),
        "Payload Too Large",
        "the client learns only the status"
    );
    let event = last(&events);
    let detail = event.detail.as_deref().expect("a detail");
    assert!(detail.contains("Content-Length 2097152"), "{detail}");
    assert!(detail.contains("1048576-byte body limit"), "{detail}");
    assert!(detail.contains("SignatureCheck"), "{detail}");
    assert!(detail.contains("the default, 1 MiB"), "{detail}");

    // Streamed (chunked), past the stack's own limit.
    let status = send_chunked(addr, "/stack", 10, 1024).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let detail = last(&events).detail.expect("a detail");
    assert!(detail.contains("4096-byte body limit"), "{detail}");
    assert!(detail.contains("WebhookStack::body_limit"), "{detail}");
    assert!(!detail.contains("the default"), "{detail}");
}

async fn idempotent_server(audit: AuditLayer) -> SocketAddr {
    let stack = WebhookStack::new()
        .signature(SignatureLayer::github(Secret::new(SECRET).unwrap()))
        .idempotency(IdempotencyLayer::new())
        .audit(audit)
        .build()
        .unwrap();
    support::serve(Router::new().route("/github", handler().layer(stack))).await
}

#[tokio::test]
async fn a_duplicate_is_its_own_outcome_not_a_rejection() {
    let events = Events::default();
    let (duplicates, rejections) = (Events::default(), Events::default());
    let audit = recording(&events)
        .on_duplicate({
            let duplicates = Arc::clone(&duplicates);
            move |event: &AuditEvent| duplicates.lock().unwrap().push(event.clone())
        })
        .on_reject({
            let rejections = Arc::clone(&rejections);
            move |event: &AuditEvent| rejections.lock().unwrap().push(event.clone())
        });
    let counters = audit.clone();
    let addr = idempotent_server(audit).await;
    let body = br#"{"action":"opened"}"#;
    let headers = github_headers(body, "delivery-7");

    let first = support::post_with(addr, "/github", &headers, body).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(last(&events).outcome, Outcome::Accepted);

    let again = support::post_with(addr, "/github", &headers, body).await;
    assert_eq!(again.status, StatusCode::OK);
    let event = last(&events);
    assert_eq!(event.outcome, Outcome::Duplicate);
    assert_eq!(event.event, "webhook.duplicate");
    assert_eq!(event.reason, None);
    assert_eq!(event.answer, Some("duplicate"));
    assert_eq!(event.status, 200);

    let counts = counters.counts();
    assert_eq!(
        (counts.accepted, counts.rejected, counts.duplicates),
        (1, 0, 1)
    );
    assert_eq!(duplicates.lock().unwrap().len(), 1);
    assert!(rejections.lock().unwrap().is_empty());
}

/// Captures what the `tracing` subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// A current-thread runtime: the server's tasks run on this thread, under the
// thread's default subscriber.
#[tokio::test(flavor = "current_thread")]
async fn the_tracing_sink_logs_a_duplicate_at_info_and_a_rejection_at_warn() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer({
            let captured = captured.clone();
            move || captured.clone()
        })
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let addr = idempotent_server(AuditLayer::new()).await;
    let body = br#"{"action":"closed"}"#;
    let headers = github_headers(body, "delivery-8");
    for _ in 0..2 {
        assert_eq!(
            support::post_with(addr, "/github", &headers, body)
                .await
                .status,
            StatusCode::OK
        );
    }
    let forged = github_headers(b"something else", "delivery-9");
    let refused = support::post_with(addr, "/github", &forged, body).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let line = |event: &str| {
        log.lines()
            .find(|line| line.contains(event))
            .unwrap_or_else(|| panic!("no {event} in {log}"))
            .to_owned()
    };
    assert!(line("webhook.accepted").contains(" INFO "), "{log}");
    let duplicate = line("webhook.duplicate");
    assert!(duplicate.contains(" INFO "), "{duplicate}");
    assert!(duplicate.contains("status=200"), "{duplicate}");
    let rejected = line("webhook.rejected");
    assert!(rejected.contains(" WARN "), "{rejected}");
    assert!(
        rejected.contains("reason=\"signature_mismatch\""),
        "{rejected}"
    );
    assert!(!log.contains("webhook.rejected status=200"), "{log}");
}

#[tokio::test(flavor = "current_thread")]
async fn the_tracing_sink_speaks_the_seed_names_when_asked() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer({
            let captured = captured.clone();
            move || captured.clone()
        })
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let addr = idempotent_server(AuditLayer::new().event_names(EventNames::Seed)).await;
    let body = br#"{"action":"reopened"}"#;
    let reply = support::post_with(addr, "/github", &github_headers(body, "d-s"), body).await;
    assert_eq!(reply.status, StatusCode::OK);

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let line = log
        .lines()
        .find(|line| line.contains("webhook.triggered"))
        .unwrap_or_else(|| panic!("no webhook.triggered in {log}"));
    assert!(line.contains("auth=\"signature\""), "{line}");
    assert!(!line.contains("auth_method"), "{line}");
}

/// Numbers requests 1, 2, 3, ... like an application's own id scheme.
#[derive(Clone, Default)]
struct Counter(Arc<Mutex<u64>>);

impl MakeRequestId for Counter {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let mut next = self.0.lock().unwrap();
        *next += 1;
        Some(RequestId::new(HeaderValue::from(*next)))
    }
}

#[tokio::test]
async fn events_carry_an_rfc3339_timestamp_and_the_request_id_bounded_and_sanitised() {
    let events = Events::default();
    let app = Router::new().route(
        "/github",
        handler().layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(Counter::default()))
                .layer(recording(&events))
                .layer(SignatureLayer::github(Secret::new(SECRET).unwrap())),
        ),
    );
    let addr = support::serve(app).await;
    let body = br#"{"zen":"hi"}"#;

    let before = OffsetDateTime::from(SystemTime::now());
    let reply = support::post_with(addr, "/github", &github_headers(body, "d"), body).await;
    assert_eq!(reply.status, StatusCode::OK);
    let after = OffsetDateTime::from(SystemTime::now());
    let event = last(&events);
    // tower-http's layer numbered it.
    assert_eq!(event.request_id.as_deref(), Some("1"));
    let at = OffsetDateTime::parse(&event.timestamp, &Rfc3339).expect("RFC 3339");
    assert!(event.timestamp.ends_with('Z'), "{}", event.timestamp);
    // To the millisecond: `before` rounded down to it.
    let floor = before.replace_millisecond(before.millisecond()).unwrap();
    assert!(floor <= at && at <= after, "{floor} <= {at} <= {after}");
    assert!(event
        .to_json()
        .contains(&format!("\"timestamp\":\"{}\"", event.timestamp)));

    // A client-sent id is kept (SetRequestIdLayer does not overwrite it),
    // but bounded and reduced to visible ASCII.
    let mut hostile = b"id\twith\"tab ".to_vec();
    hostile.extend(std::iter::repeat_n(b'x', 300));
    let mut headers = github_headers(body, "d");
    headers.push((
        HeaderName::from_static("x-request-id"),
        HeaderValue::from_bytes(&hostile).unwrap(),
    ));
    support::post_with(addr, "/github", &headers, body).await;
    let id = last(&events).request_id.expect("a request id");
    // The documented cap on a recorded request id.
    assert_eq!(id.len(), 128);
    assert!(id.starts_with("id_with\"tab_xxx"), "{id}");
    assert!(id.bytes().all(|b| b.is_ascii_graphic()));
}

#[tokio::test]
async fn a_request_id_set_inside_the_audit_layer_is_read_from_the_response() {
    use tower_http::request_id::PropagateRequestIdLayer;
    let events = Events::default();
    let app = Router::new().route(
        "/github",
        handler().layer(
            ServiceBuilder::new()
                .layer(recording(&events))
                .layer(SetRequestIdLayer::x_request_id(Counter::default()))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(SignatureLayer::github(Secret::new(SECRET).unwrap())),
        ),
    );
    let addr = support::serve(app).await;
    let reply = support::post_with(addr, "/github", &[], b"{}").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.headers["x-request-id"], "1");
    assert_eq!(last(&events).request_id.as_deref(), Some("1"));
}

#[tokio::test]
async fn the_seed_event_names_are_an_option() {
    let events = Events::default();
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let audit = recording(&events)
        .sink({
            let lines = Arc::clone(&lines);
            move |event: &AuditEvent| lines.lock().unwrap().push(event.to_json())
        })
        .event_names(EventNames::Seed);
    let app = Router::new().route(
        "/github",
        handler().layer(
            ServiceBuilder::new()
                .layer(audit)
                .layer(SignatureLayer::github(Secret::new(SECRET).unwrap())),
        ),
    );
    let addr = support::serve(app).await;
    let body = br#"{"zen":"hi"}"#;
    support::post_with(addr, "/github", &github_headers(body, "d"), body).await;
    support::post_with(addr, "/github", &[], body).await;

    let lines = lines.lock().unwrap();
    let triggered: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(triggered["event"], "webhook.triggered");
    assert_eq!(triggered["auth"], "signature");
    assert!(triggered.get("auth_method").is_none(), "{triggered}");
    let rejected: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(rejected["event"], "webhook.rejected");
    assert_eq!(rejected["reason"], "signature_missing");
    assert_eq!(events.lock().unwrap()[0].event, "webhook.triggered");
}

#[tokio::test]
async fn the_current_event_names_stay_the_default() {
    let events = Events::default();
    let app = Router::new().route(
        "/github",
        handler().layer(
            ServiceBuilder::new()
                .layer(recording(&events))
                .layer(SignatureLayer::github(Secret::new(SECRET).unwrap())),
        ),
    );
    let addr = support::serve(app).await;
    let body = br#"{"zen":"hi"}"#;
    support::post_with(addr, "/github", &github_headers(body, "d"), body).await;
    let json: serde_json::Value = serde_json::from_str(&last(&events).to_json()).unwrap();
    assert_eq!(json["event"], "webhook.accepted");
    assert_eq!(json["auth_method"], "signature");
    assert!(json.get("auth").is_none());
}

mod grpc {
    use super::*;
    use tokio::net::TcpListener;
    use tonic::transport::server::TcpIncoming;
    use tonic::transport::{Channel, Server};
    use tonic::Code;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;

    #[tokio::test]
    async fn a_refused_grpc_call_is_audited_with_its_grpc_status() {
        let events = Events::default();
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (_reporter, health) = tonic_health::server::health_reporter();
        let layers = ServiceBuilder::new().layer(recording(&events)).layer(
            TokenLayer::header("x-token")
                .accept("ci", Secret::new("grpc-token-0123456789").unwrap()),
        );
        tokio::spawn(async move {
            Server::builder()
                .layer(layers)
                .serve_with_incoming(health, TcpIncoming::from(listener))
                .await
                .unwrap();
        });
        let channel = Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let status = HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated);

        let event = last(&events);
        assert_eq!(event.outcome, Outcome::Rejected);
        assert_eq!(event.reason, Some(Reason::TokenMissing));
        assert_eq!(event.status, 200, "gRPC answers refusals with HTTP 200");
        assert_eq!(event.grpc_status, Some(Code::Unauthenticated as u16));
        let json: serde_json::Value = serde_json::from_str(&event.to_json()).unwrap();
        assert_eq!(json["grpc_status"], 16);
    }
}

#[test]
fn unused_epoch_import_guard() {
    // Keeps UNIX_EPOCH in use for the timestamp assertions' clarity.
    assert!(SystemTime::now() > UNIX_EPOCH);
}

#[tokio::test]
async fn names_from_configuration_are_refused_with_an_error_not_a_panic() {
    use tower_webhook::replay::ReplayLayer;
    use tower_webhook::tenant::TenantKey;
    use tower_webhook::InvalidSetting;

    let bad = "X Bad Header";
    let header_error = |result: Result<(), InvalidSetting>, role: &str| {
        let error = result.unwrap_err();
        assert!(
            matches!(error, InvalidSetting::HeaderName { .. }),
            "{error}"
        );
        assert!(error.to_string().contains(role), "{error}");
        assert!(error.to_string().contains(bad), "{error}");
    };
    header_error(TokenLayer::try_header(bad).map(drop), "token");
    header_error(ReplayLayer::try_header(bad).map(drop), "replay");
    header_error(
        IdempotencyLayer::try_from_unsigned_header(bad).map(drop),
        "idempotency",
    );
    header_error(TenantKey::try_header(bad).map(drop), "tenant");
    for bad_realm in ["say \"hi\"", "back\\slash", "tab\there", "é"] {
        let error = TokenLayer::try_header("x-token")
            .unwrap()
            .try_realm(bad_realm)
            .unwrap_err();
        assert!(matches!(error, InvalidSetting::Realm { .. }), "{error}");
    }
    // The infallible twins, for literals, panic as documented.
    assert!(std::panic::catch_unwind(|| TokenLayer::header(bad)).is_err());
    assert!(std::panic::catch_unwind(|| ReplayLayer::header(bad)).is_err());
    assert!(std::panic::catch_unwind(|| TokenLayer::bearer().realm("\"")).is_err());

    // A good name from configuration, in any case, works end to end.
    let layer = TokenLayer::try_header("X-Acme-Token")
        .unwrap()
        .try_realm("acme hooks")
        .unwrap()
        .accept("ci", Secret::new("acme-token-0123456789").unwrap());
    let addr = support::serve(Router::new().route("/acme", handler().layer(layer))).await;
    let token = (
        HeaderName::from_static("x-acme-token"),
        HeaderValue::from_static("acme-token-0123456789"),
    );
    let ok = support::post_with(addr, "/acme", &[token], b"{}").await;
    assert_eq!(ok.status, StatusCode::OK);
    let refused = support::post_with(addr, "/acme", &[], b"{}").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
}

#[test]
fn sign_request_emits_every_header_github_sends() {
    use tower_webhook::signature::Signer;
    let signer = Signer::preset("github", SECRET).unwrap();
    let mut request = Request::post("https://hooks.example.com/github")
        .header("x-github-event", "push")
        .body(b"{}".to_vec())
        .unwrap();
    signer
        .sign_request(&mut request, 0, "72d3162e-cc78")
        .unwrap();
    let headers = request.headers();
    assert_eq!(headers["x-github-delivery"], "72d3162e-cc78");
    assert_eq!(
        headers["x-github-event"], "push",
        "the caller's event is kept"
    );
    assert!(headers["x-hub-signature-256"]
        .to_str()
        .unwrap()
        .starts_with("sha256="));
}

#[tokio::test]
async fn handlers_read_the_verification_with_the_bare_extractor_not_extension() {
    use tower_webhook::Verification;
    let layer = || SignatureLayer::github(Secret::new(SECRET).unwrap());
    let app = Router::new()
        .route(
            "/bare",
            post(|verification: Verification| async move {
                format!("{:?}", verification.authentication.map(|auth| auth.method))
            })
            .layer(layer()),
        )
        .route(
            "/extension",
            post(
                |axum::Extension(v): axum::Extension<Verification>| async move {
                    format!("{:?}", v.client_ip)
                },
            )
            .layer(layer()),
        );
    let addr = support::serve(app).await;
    let body = b"{}";
    let headers = github_headers(body, "d");
    let bare = support::post_with(addr, "/bare", &headers, body).await;
    assert_eq!(
        (bare.status, bare.text().as_str()),
        (StatusCode::OK, "Some(Signature)")
    );
    // What the README used to show: the context is not a plain extension.
    let extension = support::post_with(addr, "/extension", &headers, body).await;
    assert_eq!(extension.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        extension.text().contains("Missing request extension"),
        "{}",
        extension.text()
    );
}
