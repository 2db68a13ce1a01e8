//! HTTPS for an axum router: a self-signed certificate made at start, and a
//! serve loop over tokio-rustls that keeps `ConnectInfo<SocketAddr>` working
//! (axum's own `serve` speaks plain TCP only). Shared by
//! `examples/tls_receiver.rs` and `tests/library/examples/tls_receiver.rs`.
#![allow(dead_code)]

use std::error::Error;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use std::net::{Ipv4Addr, Ipv6Addr};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::{Service, ServiceExt};
use tower_webhook::idempotency::IdempotencyLayer;
use tower_webhook::ip::IpFilterLayer;
use tower_webhook::signature::SignatureLayer;
use tower_webhook::{Secret, WebhookStack};

/// A client that opens a connection and never finishes the handshake must
/// not hold a task forever.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest delivery the receiver buffers (GitHub caps payloads at 25 MB,
/// but most deliveries are a few KiB).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// A certificate generated for this run, and the server configuration that
/// presents it.
pub struct SelfSigned {
    /// The certificate, PEM-encoded: what a client passes to `--cacert`.
    pub cert_pem: String,
    /// The same certificate, DER-encoded: what a rustls client trusts.
    pub cert_der: CertificateDer<'static>,
    /// The TLS server configuration (TLS 1.2 and 1.3, HTTP/1.1 by ALPN).
    pub config: Arc<ServerConfig>,
}

/// Generates a self-signed certificate valid for `names` (DNS names or IP
/// addresses, e.g. `localhost` and `127.0.0.1`). Only for examples and
/// tests: a real receiver presents a certificate from a CA its senders trust.
pub fn self_signed(names: &[String]) -> Result<SelfSigned, Box<dyn Error + Send + Sync>> {
    let generated = rcgen::generate_simple_self_signed(names.to_vec())?;
    let cert_der = generated.cert.der().clone();
    let key = PrivateKeyDer::from(generated.signing_key);
    // The provider is named explicitly: rustls refuses to guess when more
    // than one is compiled in.
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(vec![cert_der.clone()], key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(SelfSigned {
        cert_pem: generated.cert.pem(),
        cert_der,
        config: Arc::new(config),
    })
}

/// The receiver: `POST /hook` for GitHub deliveries signed with `secret`,
/// from loopback clients only, each `X-GitHub-Delivery` handled once. The
/// handler answers `202 Accepted` with the peer address it saw, which
/// proves `ConnectInfo` reaches the route (and the IP filter) through TLS.
pub fn receiver(secret: Secret) -> Router {
    let stack = WebhookStack::new()
        .ip_filter(
            IpFilterLayer::new()
                .allow_ip(Ipv4Addr::LOCALHOST.into())
                .allow_ip(Ipv6Addr::LOCALHOST.into()),
        )
        .signature(SignatureLayer::github(secret))
        .idempotency(IdempotencyLayer::new())
        .body_limit(BODY_LIMIT)
        .build()
        .expect("a consistent stack");
    Router::new().route("/hook", post(accept).layer(stack))
}

async fn accept(ConnectInfo(peer): ConnectInfo<SocketAddr>, body: Bytes) -> (StatusCode, String) {
    println!("delivery from {peer}: {} bytes", body.len());
    (
        StatusCode::ACCEPTED,
        format!("accepted from {}\n", peer.ip()),
    )
}

/// Serves `router` over HTTPS on `listener` until the task is dropped.
///
/// Each connection is accepted, handshaken and served on its own task, so a
/// slow or failing client never holds up the others. The peer address is
/// inserted as `ConnectInfo<SocketAddr>`, exactly as axum's `serve` does,
/// so extractors and the IP filter see the real client.
pub async fn serve(listener: TcpListener, config: Arc<ServerConfig>, router: Router) {
    let acceptor = TlsAcceptor::from(config);
    let mut make_service = router.into_make_service_with_connect_info::<SocketAddr>();
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            // Out of file descriptors and the like: back off instead of
            // spinning; the listener itself is still good.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let service = match make_service.call(peer).await {
            Ok(service) => service,
            Err(never) => match never {},
        };
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            // A failed handshake (plain HTTP on the TLS port, an untrusted
            // certificate, a scanner) is the client's problem: drop it.
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                _ => return,
            };
            let hyper_service =
                hyper::service::service_fn(move |request: http::Request<Incoming>| {
                    service.clone().oneshot(request)
                });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .serve_connection(TokioIo::new(tls), hyper_service)
                .await;
        });
    }
}
