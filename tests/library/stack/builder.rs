//! The stack builder through a real HTTP server: the order of the checks,
//! what one stack protects against, and the configurations it refuses.

use crate::support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::unix_now;

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{any, post};
use axum::Router;
use bytes::Bytes;
use http::request::Parts;
use http::{HeaderName, HeaderValue, Method, StatusCode};
use http_body_util::Full;
use tower_webhook::audit::{AuditEvent, AuditLayer, Outcome};
use tower_webhook::guard::CheckLayer;
use tower_webhook::idempotency::{IdempotencyLayer, REPLAYED_HEADER};
use tower_webhook::ip::IpFilterLayer;
use tower_webhook::replay::ReplayLayer;
use tower_webhook::signature::SignatureLayer;
use tower_webhook::token::TokenLayer;
use tower_webhook::{
    Answer, AuthMethod, Reason, Rejection, Secret, StackError, Verification, WebhookContext,
    WebhookStack,
};

const GITHUB_SECRET: &str = "It's a Secret to Everybody";
const STANDARD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

type Seen = Arc<Mutex<Vec<Verification>>>;

/// Outermost: keeps what every layer recorded, rejections included.
async fn capture(State(seen): State<Seen>, mut request: Request, next: Next) -> Response {
    let context = WebhookContext::of(&mut request);
    let response = next.run(request).await;
    seen.lock().unwrap().push(context.snapshot());
    response
}

struct Server {
    addr: std::net::SocketAddr,
    seen: Seen,
    runs: Arc<AtomicUsize>,
}

impl Server {
    async fn start(stack: WebhookStack) -> Self {
        let layer = stack.build().expect("a consistent stack");
        let seen = Seen::default();
        let runs = Arc::new(AtomicUsize::new(0));
        let handler_runs = Arc::clone(&runs);
        let router = Router::new()
            .route(
                "/hook",
                post(move |body: Bytes| {
                    let runs = Arc::clone(&handler_runs);
                    async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        format!("handled {} bytes", body.len())
                    }
                })
                .layer(layer),
            )
            .layer(middleware::from_fn_with_state(Arc::clone(&seen), capture));
        let addr = support::serve(router).await;
        Self { addr, seen, runs }
    }

    async fn post(&self, headers: &[(HeaderName, HeaderValue)], body: &[u8]) -> support::Reply {
        support::post_with(self.addr, "/hook", headers, body).await
    }

    fn last(&self) -> Verification {
        self.seen
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a request")
    }

    fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }
}

fn github_delivery(body: &[u8], delivery: &str) -> Vec<(HeaderName, HeaderValue)> {
    let mut headers = support::signed_headers("github", GITHUB_SECRET, body, 0, "");
    headers.push((
        HeaderName::from_static("x-github-delivery"),
        HeaderValue::from_str(delivery).unwrap(),
    ));
    headers
}

fn github_stack(allow: &str) -> WebhookStack {
    WebhookStack::new()
        .ip_filter(IpFilterLayer::new().allow(allow).unwrap())
        .signature(SignatureLayer::github(Secret::new(GITHUB_SECRET).unwrap()))
        .idempotency(IdempotencyLayer::new())
}

#[tokio::test]
async fn a_github_stack_accepts_once_and_refuses_forgeries() {
    let server = Server::start(github_stack("127.0.0.1, ::1")).await;
    let body = br#"{"zen":"Design for failure."}"#;

    let reply = server.post(&github_delivery(body, "d-1"), body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.text(), format!("handled {} bytes", body.len()));
    let seen = server.last();
    let auth = seen.authentication.expect("authenticated");
    assert_eq!(auth.method, AuthMethod::Signature);
    assert_eq!(auth.scheme.as_deref(), Some("github"));
    assert_eq!(seen.client_ip, Some("127.0.0.1".parse().unwrap()));
    // GitHub does not sign its delivery header: the key is a digest of the
    // signed body.
    assert!(seen
        .idempotency_key
        .is_some_and(|key| key.starts_with("sha256:") && !key.contains("d-1")));

    // The sender retries: acknowledged, the handler does not run again.
    let reply = server.post(&github_delivery(body, "d-1"), body).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers.get(REPLAYED_HEADER).unwrap(), "true");
    assert_eq!(server.last().rejection, None);
    assert_eq!(server.last().answer, Some("duplicate"));
    assert_eq!(server.runs(), 1);

    // Someone changes the body under the old signature.
    let forged = br#"{"zen":"Pay me."}"#;
    let reply = server.post(&github_delivery(body, "d-2"), forged).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(server.last().rejection, Some(Reason::SignatureMismatch));
    assert_eq!(server.runs(), 1);

    // The captured bytes under a new, unsigned delivery id are still the
    // same delivery.
    let reply = server.post(&github_delivery(body, "d-2"), body).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers.get(REPLAYED_HEADER).unwrap(), "true");
    assert_eq!(server.runs(), 1);

    // A forged delivery does not burn the key of a real new one.
    let new_body = br#"{"zen":"Keep it logically awesome."}"#;
    let reply = server
        .post(&github_delivery(new_body, "d-3"), new_body)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.headers.get(REPLAYED_HEADER).is_none());
    assert_eq!(server.runs(), 2);
}

#[tokio::test]
async fn an_unlisted_client_is_refused_before_anything_else() {
    let server = Server::start(github_stack("10.0.0.0/8")).await;
    let body = b"{}";
    // Valid signature, but from the wrong address.
    let reply = server.post(&github_delivery(body, "d-1"), body).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(server.last().rejection, Some(Reason::IpNotAllowed));
    assert_eq!(server.runs(), 0);

    // A body announced far over the limit and never sent: the 403 comes
    // without waiting for it.
    let reply = support::raw_exchange(
        server.addr,
        b"POST /hook HTTP/1.1\r\nhost: x\r\ncontent-length: 100000000\r\nconnection: close\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(support::raw_status(&reply), 403, "{reply}");
}

#[tokio::test]
async fn header_checks_run_before_the_body_limit() {
    let server = Server::start(github_stack("127.0.0.1, ::1").body_limit(1024)).await;
    // No signature and an oversized body: the missing signature is found
    // from the headers alone.
    let reply = support::raw_exchange(
        server.addr,
        b"POST /hook HTTP/1.1\r\nhost: x\r\ncontent-length: 100000000\r\nconnection: close\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(support::raw_status(&reply), 401, "{reply}");
    assert_eq!(server.last().rejection, Some(Reason::SignatureMissing));

    // Signed, but over the stack's limit.
    let body = vec![b'a'; 2048];
    let reply = server.post(&github_delivery(&body, "big"), &body).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(server.last().rejection, Some(Reason::PayloadTooLarge));
    assert_eq!(server.runs(), 0);
}

#[tokio::test]
async fn the_replay_window_checks_the_signed_timestamp() {
    let stack = WebhookStack::new()
        .signature(SignatureLayer::standard_webhooks(
            Secret::from_whsec(STANDARD_SECRET).unwrap(),
        ))
        .replay(ReplayLayer::signed_timestamp().window(Duration::from_secs(300)))
        .idempotency(IdempotencyLayer::new());
    let server = Server::start(stack).await;
    let body = br#"{"type":"invoice.paid"}"#;

    let fresh = support::signed_headers("standard", STANDARD_SECRET, body, unix_now(), "msg_fresh");
    let reply = server.post(&fresh, body).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", server.last());
    let timestamp = server.last().timestamp.expect("a timestamp");
    assert!(timestamp.signed && timestamp.window_checked);

    // Correctly signed an hour ago: a replay.
    let stale = support::signed_headers(
        "standard",
        STANDARD_SECRET,
        body,
        unix_now() - 3600,
        "msg_stale",
    );
    let reply = server.post(&stale, body).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        server.last().rejection,
        Some(Reason::TimestampOutsideWindow)
    );

    // A forged timestamp on a real signature: the signature fails first.
    let mut moved = fresh.clone();
    for (name, value) in &mut moved {
        if name == "webhook-timestamp" {
            *value = HeaderValue::from_str(&(unix_now() + 10).to_string()).unwrap();
        }
    }
    let reply = server.post(&moved, body).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(server.last().rejection, Some(Reason::SignatureMismatch));
    assert_eq!(server.runs(), 1);
}

#[tokio::test]
async fn a_token_stack_with_a_header_timestamp() {
    let stack = WebhookStack::new()
        .token(
            TokenLayer::header(HeaderName::from_static("x-gitlab-token"))
                .accept("ci", Secret::new("glpat-Ex4mple-T0ken").unwrap()),
        )
        .replay(ReplayLayer::header(HeaderName::from_static("x-timestamp")).seconds());
    let server = Server::start(stack).await;
    let token = (
        HeaderName::from_static("x-gitlab-token"),
        HeaderValue::from_static("glpat-Ex4mple-T0ken"),
    );
    let now = (
        HeaderName::from_static("x-timestamp"),
        HeaderValue::from_str(&unix_now().to_string()).unwrap(),
    );
    let old = (
        HeaderName::from_static("x-timestamp"),
        HeaderValue::from_static("1000000000"),
    );

    let reply = server.post(&[token.clone(), now.clone()], b"{}").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        server.last().authentication.unwrap().key_id.as_deref(),
        Some("ci")
    );
    let reply = server.post(&[token.clone(), old], b"{}").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        server.last().rejection,
        Some(Reason::TimestampOutsideWindow)
    );
    let reply = server.post(&[now], b"{}").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(server.last().rejection, Some(Reason::TokenMissing));
    assert_eq!(server.runs(), 1);
}

#[test]
fn inconsistent_stacks_are_refused() {
    let github = || SignatureLayer::github(Secret::new(GITHUB_SECRET).unwrap());

    assert_eq!(
        WebhookStack::new().build().unwrap_err(),
        StackError::NoAuthentication
    );
    // An IP filter that admits everyone authenticates nobody.
    assert_eq!(
        WebhookStack::new()
            .ip_filter(IpFilterLayer::new())
            .build()
            .unwrap_err(),
        StackError::NoAuthentication
    );
    assert!(WebhookStack::new()
        .insecure_no_authentication()
        .build()
        .is_ok());
    assert!(WebhookStack::new()
        .ip_filter(IpFilterLayer::new().allow("10.0.0.0/8").unwrap())
        .build()
        .is_ok());

    // GitHub signs no timestamp.
    let error = WebhookStack::new()
        .signature(github())
        .replay(ReplayLayer::signed_timestamp())
        .build()
        .unwrap_err();
    assert_eq!(error, StackError::NoTimestampSource);
    assert!(error.to_string().contains("signs one"));
    // Nor does a token.
    assert_eq!(
        WebhookStack::new()
            .token(TokenLayer::bearer().accept("a", Secret::new("a-long-bearer-token").unwrap()))
            .replay(ReplayLayer::signed_timestamp())
            .build()
            .unwrap_err(),
        StackError::NoTimestampSource
    );
    // Slack does; and a header timestamp needs no signature.
    assert!(WebhookStack::new()
        .signature(SignatureLayer::slack(
            Secret::new("8f742231b10e8888abcd99yyyzzz85a5").unwrap()
        ))
        .replay(ReplayLayer::signed_timestamp())
        .build()
        .is_ok());
    assert!(WebhookStack::new()
        .signature(github())
        .replay(ReplayLayer::header(HeaderName::from_static("x-timestamp")))
        .build()
        .is_ok());

    // Keys forgotten before a replay window of 5 min either way closes.
    let error = WebhookStack::new()
        .signature(github())
        .replay(ReplayLayer::header(HeaderName::from_static("x-timestamp")))
        .idempotency(IdempotencyLayer::new().ttl(Duration::from_secs(599)))
        .build()
        .unwrap_err();
    assert!(matches!(error, StackError::Idempotency(_)), "{error}");
    assert!(WebhookStack::new()
        .signature(github())
        .replay(ReplayLayer::header(HeaderName::from_static("x-timestamp")))
        .idempotency(IdempotencyLayer::new().ttl(Duration::from_secs(600)))
        .build()
        .is_ok());
}

#[tokio::test]
async fn service_builder_stacks_single_layers() {
    use tower::{ServiceBuilder, ServiceExt};

    let service = ServiceBuilder::new()
        .layer(IpFilterLayer::new().allow("10.0.0.0/8").unwrap())
        .layer(SignatureLayer::github(Secret::new(GITHUB_SECRET).unwrap()))
        .service_fn(
            |_: http::Request<tower_webhook::body::BufferedBody>| async {
                Ok::<_, std::convert::Infallible>(http::Response::new(String::from("ok")))
            },
        );
    let body = b"{}";
    let mut request = http::Request::post("/hook")
        .body(Full::new(Bytes::from_static(body)))
        .unwrap();
    request.headers_mut().extend(github_delivery(body, "x"));
    request
        .extensions_mut()
        .insert(std::net::SocketAddr::from(([10, 1, 2, 3], 4000)));
    let response = service.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let mut request = http::Request::post("/hook")
        .body(Full::new(Bytes::from_static(body)))
        .unwrap();
    request.headers_mut().extend(github_delivery(body, "x"));
    request
        .extensions_mut()
        .insert(std::net::SocketAddr::from(([192, 168, 1, 1], 4000)));
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

type Events = Arc<Mutex<Vec<AuditEvent>>>;

/// An audit layer that keeps every event.
fn recording(events: &Events) -> AuditLayer {
    let events = Arc::clone(events);
    AuditLayer::without_sinks().sink(move |event: &AuditEvent| {
        events.lock().unwrap().push(event.clone());
    })
}

fn last_event(events: &Events) -> AuditEvent {
    events.lock().unwrap().last().cloned().expect("an event")
}

/// A GitHub delivery of `body` announcing `event`.
fn github_event(body: &[u8], event: &'static str) -> Vec<(HeaderName, HeaderValue)> {
    let mut headers = github_delivery(body, "d-1");
    headers.push((
        HeaderName::from_static("x-github-event"),
        HeaderValue::from_static(event),
    ));
    headers
}

#[tokio::test]
async fn a_custom_check_refuses_with_its_own_reason_in_the_audit_trail() {
    let events = Events::default();
    let asked = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&asked);
    let audit = recording(&events);
    let counters = audit.clone();
    // A closure is a check.
    let stack = github_stack("127.0.0.1, ::1")
        .check(move |parts: &Parts| {
            counted.fetch_add(1, Ordering::SeqCst);
            match parts.headers.get("x-github-event") {
                Some(event) if event == "push" => Ok(()),
                _ => Err(Rejection::custom(
                    "event_not_handled",
                    StatusCode::UNPROCESSABLE_ENTITY,
                )),
            }
        })
        .audit(audit);
    let server = Server::start(stack).await;
    let body = br#"{"zen":"Keep it logically awesome."}"#;

    // A forgery is refused for its signature: the custom check, though it
    // reads only the head, runs after the signature verified.
    let forged = server
        .post(&github_event(body, "issues"), br#"{"zen":"forged"}"#)
        .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    assert_eq!(last_event(&events).reason, Some(Reason::SignatureMismatch));
    assert_eq!(asked.load(Ordering::SeqCst), 0);

    let refused = server.post(&github_event(body, "issues"), body).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let event = last_event(&events);
    assert_eq!(event.outcome, Outcome::Rejected);
    assert_eq!(event.event, "webhook.rejected");
    assert_eq!(event.reason, Some(Reason::Custom("event_not_handled")));
    assert_eq!(event.answer, None);
    assert!(
        event.to_json().contains(r#""reason":"event_not_handled""#),
        "{}",
        event.to_json()
    );
    assert_eq!(
        server.last().rejection,
        Some(Reason::Custom("event_not_handled"))
    );
    assert_eq!(counters.counts().by_reason["event_not_handled"], 1);
    assert_eq!(server.runs(), 0);

    // Refused before idempotency: the same signed bytes announced as a
    // push are a first delivery, not a duplicate.
    let accepted = server.post(&github_event(body, "push"), body).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text());
    assert_eq!(last_event(&events).outcome, Outcome::Accepted);
    assert_eq!(server.runs(), 1);
    assert_eq!(asked.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_custom_body_check_sees_only_authenticated_deliveries() {
    let events = Events::default();
    let bodies: Arc<Mutex<Vec<Bytes>>> = Arc::default();
    let seen = Arc::clone(&bodies);
    let stack = github_stack("127.0.0.1, ::1")
        .body_check(move |_: &Parts, body: &Bytes| {
            seen.lock().unwrap().push(body.clone());
            let event: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
            match event["livemode"].as_bool() {
                Some(true) => Ok(()),
                _ => Err(Rejection::custom(
                    "not_livemode",
                    StatusCode::UNPROCESSABLE_ENTITY,
                )),
            }
        })
        .audit(recording(&events));
    let server = Server::start(stack).await;
    let test_mode = br#"{"livemode":false}"#;
    let live = br#"{"livemode":true}"#;

    // Live-mode bytes under a test-mode signature: a forgery, refused as
    // one before the custom check reads a byte.
    let forged = server.post(&github_delivery(test_mode, "d-1"), live).await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    assert_eq!(last_event(&events).reason, Some(Reason::SignatureMismatch));
    assert!(bodies.lock().unwrap().is_empty());

    let refused = server
        .post(&github_delivery(test_mode, "d-2"), test_mode)
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        last_event(&events).reason,
        Some(Reason::Custom("not_livemode"))
    );
    assert_eq!(*bodies.lock().unwrap(), [Bytes::from_static(test_mode)]);

    let accepted = server.post(&github_delivery(live, "d-3"), live).await;
    assert_eq!(accepted.status, StatusCode::OK);
    assert_eq!(server.runs(), 1);
}

#[tokio::test]
async fn answers_are_audited_as_answers_not_rejections() {
    let events = Events::default();
    let audit = recording(&events);
    let counters = audit.clone();
    // GitHub's ping needs no handler: a check answers it.
    let stack = github_stack("127.0.0.1, ::1")
        .check(|parts: &Parts| match parts.headers.get("x-github-event") {
            Some(event) if event == "ping" => Err(Answer::new("ping", StatusCode::NO_CONTENT)),
            _ => Ok(()),
        })
        .audit(audit);
    let server = Server::start(stack).await;
    let body = br#"{"zen":"Anything added dilutes everything else."}"#;

    let ping = server.post(&github_event(body, "ping"), body).await;
    assert_eq!(ping.status, StatusCode::NO_CONTENT);
    let event = last_event(&events);
    assert_eq!(event.outcome, Outcome::Answered);
    assert_eq!(event.event, "webhook.answered");
    assert_eq!((event.reason, event.answer), (None, Some("ping")));
    assert!(event.to_json().contains(r#""reason":null,"answer":"ping""#));
    assert_eq!(server.last().rejection, None);
    assert_eq!(server.last().answer, Some("ping"));
    assert_eq!(server.runs(), 0);

    // The idempotency layer's acknowledgement of a retry is an answer too.
    for _ in 0..2 {
        let reply = server.post(&github_event(body, "push"), body).await;
        assert_eq!(reply.status, StatusCode::OK);
    }
    let event = last_event(&events);
    assert_eq!(event.outcome, Outcome::Duplicate);
    assert_eq!(event.event, "webhook.duplicate");
    assert_eq!((event.reason, event.answer), (None, Some("duplicate")));
    assert_eq!(server.runs(), 1);

    let counts = counters.counts();
    assert_eq!(
        (counts.answered, counts.duplicates, counts.accepted),
        (1, 1, 1)
    );
    assert_eq!(counts.rejected, 0);
    // The metrics' and counters' `reason` label names an answer by its kind.
    assert_eq!(counts.by_reason["ping"], 1);
    assert_eq!(counts.by_reason["duplicate"], 1);
}

#[tokio::test]
async fn a_check_layer_guards_a_route_by_hand() {
    let events = Events::default();
    let post_only = |parts: &Parts| {
        if parts.method == Method::POST {
            Ok(())
        } else {
            Err(Rejection::custom(
                "method_not_allowed",
                StatusCode::METHOD_NOT_ALLOWED,
            ))
        }
    };
    let router = Router::new().route(
        "/hook",
        any(|| async { "handled" }).layer(
            tower::ServiceBuilder::new()
                .layer(recording(&events))
                .layer(CheckLayer::new(post_only)),
        ),
    );
    let addr = support::serve(router).await;

    let get = http::Request::get(format!("http://{addr}/hook"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let reply = support::send(get).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    let event = last_event(&events);
    assert_eq!(event.reason, Some(Reason::Custom("method_not_allowed")));
    assert_eq!(event.status, 405);

    let reply = support::post_with(addr, "/hook", &[], b"{}").await;
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (StatusCode::OK, "handled")
    );
    assert_eq!(last_event(&events).outcome, Outcome::Accepted);
}
