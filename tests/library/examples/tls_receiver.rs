//! The TLS receiver example's server over real HTTPS on 127.0.0.1: a
//! rustls client that trusts only the generated certificate gets through
//! the layers to the handler (with the peer address intact); plain HTTP on
//! the TLS port and clients that do not trust the certificate get nothing.

#[path = "../../../examples/support/tls.rs"]
mod tls;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{CertificateError, ClientConfig, RootCertStore};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsConnector;

/// Starts the example's receiver over HTTPS on 127.0.0.1:0.
async fn start() -> (SocketAddr, CertificateDer<'static>) {
    let certificate = tls::self_signed(&["localhost".to_owned(), "127.0.0.1".to_owned()])
        .expect("self-signed certificate");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let secret = tower_webhook::Secret::new(SECRET).expect("secret");
    tokio::spawn(tls::serve(
        listener,
        certificate.config,
        tls::receiver(secret),
    ));
    (addr, certificate.cert_der)
}

/// A client that trusts exactly `anchor` and nothing else (no system roots).
fn client_trusting(anchor: CertificateDer<'static>) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    roots.add(anchor).expect("trust anchor");
    client_with(roots)
}

fn client_with(roots: RootCertStore) -> TlsConnector {
    let mut config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    TlsConnector::from(Arc::new(config))
}

/// Connects and completes the TLS handshake, or returns the handshake error.
async fn connect(
    connector: &TlsConnector,
    addr: SocketAddr,
    name: &str,
) -> io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from(name.to_owned()).expect("server name");
    connector.connect(name, tcp).await
}

/// Sends one HTTP/1.1 request over an established stream.
async fn exchange<T>(io: T, request: Request<Full<Bytes>>) -> hyper::Result<Response<Bytes>>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io)).await?;
    tokio::spawn(connection);
    let response = sender.send_request(request).await?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await?.to_bytes();
    Ok(Response::from_parts(parts, body))
}

const SECRET: &str = "tls-github-secret-8d7c6b";
const BODY: &[u8] = br#"{"zen":"Design for failure."}"#;

/// A GitHub delivery signed with `secret`.
fn signed_delivery(addr: SocketAddr, id: &str, secret: &str) -> Request<Full<Bytes>> {
    let signer = tower_webhook::signature::Signer::preset("github", secret).expect("preset");
    let headers = signer
        .sign(&tower_webhook::signature::Outgoing::new(BODY, 0, id))
        .expect("signed");
    let mut request = Request::post("/hook")
        .header(http::header::HOST, addr.to_string())
        .header(http::header::CONTENT_TYPE, "application/json")
        .header("x-github-delivery", id)
        .body(Full::new(Bytes::from_static(BODY)))
        .expect("request");
    request.headers_mut().extend(headers);
    request
}

fn delivery(addr: SocketAddr, id: &str) -> Request<Full<Bytes>> {
    signed_delivery(addr, id, SECRET)
}

/// The kind of certificate error a failed handshake carries, if any.
fn certificate_error(error: &io::Error) -> Option<&CertificateError> {
    match error.get_ref()?.downcast_ref::<rustls::Error>()? {
        rustls::Error::InvalidCertificate(reason) => Some(reason),
        _ => None,
    }
}

#[tokio::test]
async fn a_delivery_over_https_reaches_the_handler_through_the_layers() {
    let (addr, cert) = start().await;
    let connector = client_trusting(cert);

    let stream = connect(&connector, addr, "127.0.0.1")
        .await
        .expect("handshake with a client that trusts the certificate");
    let (_, session) = stream.get_ref();
    assert_eq!(session.alpn_protocol(), Some(&b"http/1.1"[..]));
    assert!(session.protocol_version().is_some());

    let response = exchange(stream, delivery(addr, "tls-1"))
        .await
        .expect("response over TLS");
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    // The handler's `ConnectInfo` saw the real peer through the TLS stream.
    assert_eq!(
        response.body(),
        &Bytes::from_static(b"accepted from 127.0.0.1\n")
    );

    // The idempotency layer is in front of the route: the retry of the same
    // delivery, on a fresh TLS connection, is acknowledged without the handler.
    let stream = connect(&connector, addr, "localhost")
        .await
        .expect("the certificate also names localhost");
    let retry = exchange(stream, delivery(addr, "tls-1"))
        .await
        .expect("response over TLS");
    assert_eq!(retry.status(), StatusCode::OK);
    assert_eq!(
        retry.headers()[tower_webhook::idempotency::REPLAYED_HEADER],
        "true"
    );

    // The signature layer is there too: a delivery signed with another
    // secret is refused over TLS as over plain HTTP.
    let stream = connect(&connector, addr, "127.0.0.1")
        .await
        .expect("handshake");
    let forged = exchange(stream, signed_delivery(addr, "tls-2", "not-the-secret-000"))
        .await
        .expect("response over TLS");
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn plain_http_to_the_tls_port_gets_no_http_answer() {
    let (addr, _) = start().await;

    let tcp = TcpStream::connect(addr).await.expect("connect");
    let outcome = exchange(tcp, delivery(addr, "plain-1")).await;
    assert!(
        outcome.is_err(),
        "plain HTTP got an HTTP response: {outcome:?}"
    );

    // At the byte level: whatever comes back (a TLS alert, or nothing) is
    // not an HTTP response, and the server closes the connection.
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(b"POST /hook HTTP/1.1\r\nHost: x\r\nX-GitHub-Delivery: plain-2\r\nContent-Length: 2\r\n\r\n{}")
        .await
        .expect("write");
    let mut answer = Vec::new();
    let _ = tcp.read_to_end(&mut answer).await;
    assert!(
        !answer.starts_with(b"HTTP/"),
        "plain HTTP got an HTTP response: {:?}",
        String::from_utf8_lossy(&answer)
    );
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_certificate_fails_the_handshake() {
    let (addr, served) = start().await;
    // Another self-signed certificate for the same names: right names,
    // wrong key, so only the trust anchor differs.
    let other = tls::self_signed(&["localhost".to_owned(), "127.0.0.1".to_owned()])
        .expect("self-signed certificate");
    assert_ne!(other.cert_der, served);

    let error = connect(&client_trusting(other.cert_der), addr, "127.0.0.1")
        .await
        .expect_err("handshake must fail for an untrusted certificate");
    assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    // Both certificates carry rcgen's default subject, so webpki takes the
    // trusted one for the issuer and finds the signature wrong; with a
    // distinct subject the same refusal reads `UnknownIssuer`.
    assert!(
        matches!(
            certificate_error(&error),
            Some(CertificateError::BadSignature | CertificateError::UnknownIssuer)
        ),
        "unexpected handshake error: {error:?}"
    );

    // A client with no trust anchors at all (no system roots either).
    let error = connect(&client_with(RootCertStore::empty()), addr, "127.0.0.1")
        .await
        .expect_err("handshake must fail without trust anchors");
    assert!(
        matches!(
            certificate_error(&error),
            Some(CertificateError::UnknownIssuer)
        ),
        "unexpected handshake error: {error:?}"
    );

    // The served certificate, trusted, but asked for a name it does not carry.
    let error = connect(&client_trusting(served), addr, "webhooks.example.com")
        .await
        .expect_err("handshake must fail for a name the certificate lacks");
    assert!(
        matches!(
            certificate_error(&error),
            Some(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
            )
        ),
        "unexpected handshake error: {error:?}"
    );
}
