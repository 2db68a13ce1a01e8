//! Shared helpers for the black-box tests: a real axum server on loopback
//! (with connect info) and real clients (hyper's, and raw TCP for requests a
//! well-behaved client refuses to send).
#![allow(dead_code)]

pub mod length_extension;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Seconds since the Unix epoch, as a sender stamps a delivery.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

/// The JSON Web Key of a P-256 public key, as a provider shows one.
#[cfg(feature = "ecdsa")]
pub fn to_jwk_p256(key: &p256::ecdsa::VerifyingKey) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    let point = key.to_sec1_point(false);
    let bytes = point.as_bytes();
    serde_json::json!({
        "kty": "EC",
        "crv": "P-256",
        "alg": "ES256",
        "x": URL_SAFE_NO_PAD.encode(&bytes[1..33]),
        "y": URL_SAFE_NO_PAD.encode(&bytes[33..65]),
    })
    .to_string()
}

/// Held for its whole run by each test that loads the machine (a thousand
/// concurrent copies, a fleet of replicas under a Redis fault): in one test
/// binary two of them would otherwise run at once, and a Redis answer
/// delayed past the store's 1 s timeout turns the `409` they count into a
/// `503`. Lighter tests still run beside them. Tokio's lock, as it is held
/// across awaits and a heavy test that fails must not poison it.
pub async fn heavy() -> tokio::sync::MutexGuard<'static, ()> {
    static HEAVY: std::sync::OnceLock<tokio::sync::Mutex<()>> = std::sync::OnceLock::new();
    HEAVY.get_or_init(Default::default).lock().await
}

/// Serve `router` on 127.0.0.1 (a free port) with `ConnectInfo<SocketAddr>`.
pub async fn serve(router: axum::Router) -> SocketAddr {
    serve_on(IpAddr::V4(Ipv4Addr::LOCALHOST), router).await
}

/// Serve `router` on `ip` (e.g. `::1`) with `ConnectInfo<SocketAddr>`.
pub async fn serve_on(ip: IpAddr, router: axum::Router) -> SocketAddr {
    let listener = TcpListener::bind(SocketAddr::new(ip, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    addr
}

/// A response, fully read.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Whether the idempotency layer answered `reply` without running the
/// handler (`Idempotent-Replayed: true`).
pub fn is_replayed(reply: &Reply) -> bool {
    reply
        .headers
        .get(tower_webhook::idempotency::REPLAYED_HEADER)
        .is_some_and(|v| v == "true")
}

/// Send `request` with hyper's client (HTTP/1.1) and read the whole reply.
/// [`send`] for any body type (a streamed body without a length, say).
#[allow(dead_code)]
pub async fn send_any<B>(request: Request<B>) -> Reply
where
    B: http_body::Body + Send + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let client = Client::builder(TokioExecutor::new()).build_http::<B>();
    let response = tokio::time::timeout(Duration::from_secs(20), client.request(request))
        .await
        .expect("request timed out")
        .expect("request failed");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("reading reply").to_bytes();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

pub async fn send(request: Request<Full<Bytes>>) -> Reply {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let response = tokio::time::timeout(Duration::from_secs(20), client.request(request))
        .await
        .expect("request timed out")
        .expect("request failed");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("reading reply").to_bytes();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// A `POST` to `path` on `addr`.
pub fn post(addr: SocketAddr, path: &str) -> http::request::Builder {
    Request::post(format!("http://{addr}{path}"))
}

/// Write raw bytes to the server and read what it answers until it closes
/// the connection or `wait` passes. For malformed or endless requests.
pub async fn raw_exchange(addr: SocketAddr, request: &[u8], wait: Duration) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(wait, stream.read_to_end(&mut reply)).await;
    String::from_utf8_lossy(&reply).into_owned()
}

/// The status code of a raw HTTP/1.1 reply.
pub fn raw_status(reply: &str) -> u16 {
    reply
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {reply:?}"))
}

/// The headers the `scheme` preset sends with `body`, signed with `secret`
/// as the provider shows it, at `timestamp` (unix seconds) with delivery
/// `id`: the crate's own signing side.
pub fn signed_headers(
    scheme: &str,
    secret: &str,
    body: &[u8],
    timestamp: i64,
    id: &str,
) -> Vec<(http::HeaderName, http::HeaderValue)> {
    tower_webhook::signature::Signer::preset(scheme, secret)
        .expect("a preset and a valid secret")
        .sign(&tower_webhook::signature::Outgoing::new(
            body, timestamp, id,
        ))
        .expect("signed")
        .into_iter()
        .collect()
}

/// `POST` `body` to `path` on `addr` with `headers` appended (repeated
/// names kept).
pub async fn post_with(
    addr: SocketAddr,
    path: &str,
    headers: &[(http::HeaderName, http::HeaderValue)],
    body: &[u8],
) -> Reply {
    let mut request = post(addr, path)
        .body(Full::new(Bytes::copy_from_slice(body)))
        .expect("request");
    for (name, value) in headers {
        request.headers_mut().append(name.clone(), value.clone());
    }
    send(request).await
}

/// An idempotency store whose backend is always down, like a Redis that
/// went away.
pub struct BrokenStore;

impl tower_webhook::idempotency::IdempotencyStore for BrokenStore {
    fn reserve<'a>(
        &'a self,
        _: &'a str,
        _: Duration,
    ) -> tower_webhook::idempotency::StoreFuture<'a, tower_webhook::idempotency::Reservation> {
        Box::pin(async {
            Err(tower_webhook::idempotency::StoreError::backend(
                "connection refused",
            ))
        })
    }

    fn complete<'a>(
        &'a self,
        _: &'a str,
        _: &'a tower_webhook::idempotency::Token,
        _: tower_webhook::idempotency::StoredOutcome,
        _: Duration,
    ) -> tower_webhook::idempotency::StoreFuture<'a, bool> {
        Box::pin(async {
            Err(tower_webhook::idempotency::StoreError::backend(
                "connection refused",
            ))
        })
    }

    fn release<'a>(
        &'a self,
        _: &'a str,
        _: &'a tower_webhook::idempotency::Token,
    ) -> tower_webhook::idempotency::StoreFuture<'a, bool> {
        Box::pin(async {
            Err(tower_webhook::idempotency::StoreError::backend(
                "connection refused",
            ))
        })
    }

    fn renew<'a>(
        &'a self,
        _: &'a str,
        _: &'a tower_webhook::idempotency::Token,
        _: Duration,
    ) -> tower_webhook::idempotency::StoreFuture<'a, bool> {
        Box::pin(async {
            Err(tower_webhook::idempotency::StoreError::backend(
                "connection refused",
            ))
        })
    }
}
