//! The shared machinery: the body is read once, under a limit, and outer
//! layers see what inner layers decided.

use crate::support;

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::routing::post;
use axum::{Extension, Router};
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::{BodyExt, Full};
use tower::{ServiceBuilder, ServiceExt};
use tower_webhook::body::{buffer, BufferedBody, RawBody};
use tower_webhook::guard::BufferBodyLayer;
use tower_webhook::{Reason, Verification, WebhookContext};

use support::{post as post_to, raw_exchange, raw_status, send, serve};

/// A body that never ends, counting how often it is polled.
struct Endless {
    polls: Arc<AtomicUsize>,
}

impl http_body::Body for Endless {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'x'; 512])))))
    }
}

#[tokio::test]
async fn endless_body_stops_being_read_past_the_limit() {
    let polls = Arc::new(AtomicUsize::new(0));
    let request = Request::new(Endless {
        polls: Arc::clone(&polls),
    });
    let rejection = buffer(request, 4096).await.unwrap_err();
    assert_eq!(rejection.reason(), Reason::PayloadTooLarge);
    assert_eq!(rejection.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // 4096 / 512 = 8 frames fit; the 9th passes the limit and reading stops.
    assert_eq!(polls.load(Ordering::SeqCst), 9);
}

#[tokio::test]
async fn second_buffer_reuses_the_bytes_without_reading() {
    let request = Request::new(Full::new(Bytes::from_static(b"payload")));
    let first = buffer(request, 1024).await.unwrap();
    let first_ptr = first
        .extensions()
        .get::<RawBody>()
        .unwrap()
        .as_bytes()
        .as_ptr();

    // Replace the body with one that would count polls: it must never be read.
    let polls = Arc::new(AtomicUsize::new(0));
    let (parts, _) = first.into_parts();
    let again = Request::from_parts(
        parts,
        Endless {
            polls: Arc::clone(&polls),
        },
    );
    let second = buffer(again, 1024).await.unwrap();
    assert_eq!(polls.load(Ordering::SeqCst), 0);
    let raw = second.extensions().get::<RawBody>().unwrap().clone();
    assert_eq!(raw.as_bytes().as_ptr(), first_ptr, "no copy was made");

    let body = second.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body.as_ptr(), first_ptr, "the inner body is the same bytes");
}

#[tokio::test]
async fn stacked_layers_share_one_buffer_through_a_real_server() {
    let router = Router::new()
        .route(
            "/hook",
            post(
                |Extension(raw): Extension<RawBody>, body: Bytes| async move {
                    // Same allocation: the handler's body is the buffered bytes.
                    let same = raw.as_bytes().as_ptr() == body.as_ptr() && raw.as_bytes() == &body;
                    format!("{same} {}", body.len())
                },
            ),
        )
        .layer(
            ServiceBuilder::new()
                .layer(BufferBodyLayer::new(1 << 20))
                .layer(BufferBodyLayer::new(1 << 20)),
        );
    let addr = serve(router).await;
    let reply = send(
        post_to(addr, "/hook")
            .body(Full::new(Bytes::from(vec![b'a'; 70_000])))
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.text(), "true 70000");
}

#[tokio::test]
async fn limit_is_enforced_over_http_with_and_without_content_length() {
    let handled = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&handled);
    let router = Router::new()
        .route(
            "/hook",
            post(move |body: Bytes| {
                counter.fetch_add(1, Ordering::SeqCst);
                async move { body.len().to_string() }
            }),
        )
        .layer(BufferBodyLayer::new(1024));
    let addr = serve(router).await;

    // Within the limit.
    let ok = send(
        post_to(addr, "/hook")
            .body(Full::new(Bytes::from(vec![0u8; 1024])))
            .unwrap(),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.text(), "1024");

    // Declared too large: refused at once, although no body byte is ever sent.
    let reply = raw_exchange(
        addr,
        b"POST /hook HTTP/1.1\r\nhost: x\r\ncontent-length: 10485760\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(raw_status(&reply), 413, "{reply}");

    // Chunked, no length: 2 KiB sent, the stream left open. The server must
    // answer without waiting for the rest.
    let mut request =
        b"POST /hook HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n800\r\n".to_vec();
    request.extend_from_slice(&[b'z'; 0x800]);
    request.extend_from_slice(b"\r\n");
    let reply = raw_exchange(addr, &request, Duration::from_secs(5)).await;
    assert_eq!(raw_status(&reply), 413, "{reply}");
    assert!(reply.contains("Payload Too Large"), "{reply}");

    assert_eq!(
        handled.load(Ordering::SeqCst),
        1,
        "only the small request ran"
    );
}

#[tokio::test]
async fn body_that_breaks_off_is_a_400() {
    let router = Router::new()
        .route("/hook", post(|| async { "ran" }))
        .layer(BufferBodyLayer::new(1 << 20));
    let addr = serve(router).await;
    // Declares 100 bytes, sends 10, then half-closes: the body read fails.
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(b"POST /hook HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n0123456789")
        .await
        .unwrap();
    stream.shutdown().await.unwrap();
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut reply)).await;
    let reply = String::from_utf8_lossy(&reply);
    assert_eq!(raw_status(&reply), 400, "{reply}");
    assert!(!reply.contains("ran"));
}

/// A stand-in for the audit layer: creates the context outside everything
/// and reads it after the response.
#[derive(Clone)]
struct Observe<S> {
    inner: S,
    seen: Arc<Mutex<Vec<Verification>>>,
}

impl<S, B> tower::Service<Request<B>> for Observe<S>
where
    S: tower::Service<Request<B>> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn std::future::Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let context = WebhookContext::of(&mut request);
        let seen = Arc::clone(&self.seen);
        let future = self.inner.call(request);
        Box::pin(async move {
            let response = future.await;
            seen.lock().unwrap().push(context.snapshot());
            response
        })
    }
}

#[tokio::test]
async fn an_outer_layer_sees_the_inner_rejection() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let observed = Arc::clone(&seen);
    let service = ServiceBuilder::new()
        .layer_fn(move |inner| Observe {
            inner,
            seen: Arc::clone(&observed),
        })
        .layer(BufferBodyLayer::new(8))
        .service_fn(|_: Request<BufferedBody>| async {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
        });

    let response = service
        .clone()
        .oneshot(Request::new(Full::new(Bytes::from_static(b"far too long"))))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        response.extensions().get::<Reason>(),
        Some(&Reason::PayloadTooLarge)
    );

    let response = service
        .oneshot(Request::new(Full::new(Bytes::from_static(b"short"))))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].rejection, Some(Reason::PayloadTooLarge));
    assert_eq!(seen[1].rejection, None);
}

#[tokio::test]
async fn grpc_requests_get_grpc_statuses() {
    let service = ServiceBuilder::new()
        .layer(BufferBodyLayer::new(4))
        .service_fn(|_: Request<BufferedBody>| async {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
        });
    let request = Request::post("/grpc.health.v1.Health/Check")
        .header("content-type", "application/grpc")
        .body(Full::new(Bytes::from_static(b"0123456789")))
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["grpc-status"], "8"); // RESOURCE_EXHAUSTED
}
