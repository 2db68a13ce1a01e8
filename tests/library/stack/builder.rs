//! The stack builder through a real HTTP server: the order of the checks,
//! what one stack protects against, and the configurations it refuses.

use crate::support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode};
use http_body_util::Full;
use tower_webhook::idempotency::{IdempotencyLayer, REPLAYED_HEADER};
use tower_webhook::ip::IpFilterLayer;
use tower_webhook::replay::ReplayLayer;
use tower_webhook::signature::{unix_now, SignatureLayer};
use tower_webhook::token::TokenLayer;
use tower_webhook::{
    AuthMethod, Reason, Secret, ServiceBuilderExt, StackError, Verification, WebhookContext,
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
    assert_eq!(server.last().rejection, Some(Reason::Duplicate));
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
        .idempotency(IdempotencyLayer::new().with_ttl(Duration::from_secs(599)))
        .build()
        .unwrap_err();
    assert!(matches!(error, StackError::Idempotency(_)), "{error}");
    assert!(WebhookStack::new()
        .signature(github())
        .replay(ReplayLayer::header(HeaderName::from_static("x-timestamp")))
        .idempotency(IdempotencyLayer::new().with_ttl(Duration::from_secs(600)))
        .build()
        .is_ok());
}

#[tokio::test]
async fn the_builder_extension_stacks_single_layers() {
    use tower::{ServiceBuilder, ServiceExt};

    let service = ServiceBuilder::new()
        .webhook_ip_filter(IpFilterLayer::new().allow("10.0.0.0/8").unwrap())
        .webhook_signature(SignatureLayer::github(Secret::new(GITHUB_SECRET).unwrap()))
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
