//! The IP filter over real HTTP: an axum server on loopback with connect
//! info, a real client.

use crate::support;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::response::Response;
use axum::routing;
use axum::Router;
use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use http_body_util::Full;
use tower_webhook::ip::IpFilterLayer;
use tower_webhook::{Reason, Verification};

use support::{post, raw_exchange, raw_status, send, serve_on, Reply};

/// A webhook endpoint behind `layer` that counts its calls and answers with
/// the client IP the layer recorded. An outer test-only middleware copies
/// the rejection reason (kept in the response extensions) into an
/// `x-test-reason` header so the client can see it.
fn app(layer: IpFilterLayer, calls: Arc<AtomicUsize>) -> Router {
    Router::new()
        .route(
            "/hook",
            routing::post(move |verification: Verification| {
                let calls = Arc::clone(&calls);
                async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    verification
                        .client_ip
                        .map_or_else(|| "none".to_owned(), |ip| ip.to_string())
                }
            }),
        )
        .layer(layer)
        .layer(axum::middleware::map_response(expose_reason))
}

async fn expose_reason(mut response: Response) -> Response {
    if let Some(reason) = response.extensions().get::<Reason>().copied() {
        response
            .headers_mut()
            .insert("x-test-reason", HeaderValue::from_static(reason.as_str()));
    }
    response
}

struct Server {
    addr: SocketAddr,
    calls: Arc<AtomicUsize>,
}

impl Server {
    async fn start(layer: IpFilterLayer) -> Self {
        Self::start_on(IpAddr::V4(Ipv4Addr::LOCALHOST), layer).await
    }

    async fn start_on(ip: IpAddr, layer: IpFilterLayer) -> Self {
        let calls = Arc::new(AtomicUsize::new(0));
        let addr = serve_on(ip, app(layer, Arc::clone(&calls))).await;
        Self { addr, calls }
    }

    async fn post(&self, headers: &[(&str, &str)]) -> Reply {
        let mut request = post(self.addr, "/hook");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        send(request.body(Full::new(Bytes::from_static(b"{}"))).unwrap()).await
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

fn reason(reply: &Reply) -> Option<&str> {
    reply
        .headers
        .get("x-test-reason")
        .and_then(|v| v.to_str().ok())
}

#[track_caller]
fn assert_accepted(reply: &Reply, client_ip: &str) {
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.text(), client_ip);
}

#[track_caller]
fn assert_refused(reply: &Reply, expected: Reason) {
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{reply:?}");
    assert_eq!(reason(reply), Some(expected.as_str()));
    // The body says no more than the status line.
    assert_eq!(reply.text(), "Forbidden");
}

/// Whether this sandbox can listen on the IPv6 loopback.
fn ipv6_loopback_available() -> bool {
    let available = std::net::TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).is_ok();
    if !available {
        eprintln!("note: no IPv6 loopback in this environment; skipping the IPv6 part");
    }
    available
}

#[tokio::test]
async fn allowed_ipv4_reaches_the_handler_with_its_ip() {
    let server = Server::start(IpFilterLayer::new().allow("10.0.0.0/8, 127.0.0.1").unwrap()).await;
    assert_accepted(&server.post(&[]).await, "127.0.0.1");
    assert_eq!(server.calls(), 1);
}

#[tokio::test]
async fn unlisted_ipv4_gets_403_and_the_handler_never_runs() {
    let server = Server::start(IpFilterLayer::new().allow("10.0.0.0/8, ::1").unwrap()).await;
    assert_refused(&server.post(&[]).await, Reason::IpNotAllowed);
    assert_eq!(server.calls(), 0);
}

#[tokio::test]
async fn allow_any_admits_anyone_and_still_records_the_ip() {
    // A blank list is refused (an unset variable must not open the
    // endpoint); admitting every source is said out loud.
    assert!(IpFilterLayer::new().allow("  ").is_err());
    let server = Server::start(IpFilterLayer::new().allow_any()).await;
    assert_accepted(&server.post(&[]).await, "127.0.0.1");
}

#[tokio::test]
async fn ipv6_client() {
    if !ipv6_loopback_available() {
        return;
    }
    let loopback = IpAddr::V6(Ipv6Addr::LOCALHOST);
    let allowed = Server::start_on(loopback, IpFilterLayer::new().allow("::1/128").unwrap()).await;
    assert_accepted(&allowed.post(&[]).await, "::1");

    let denied = IpFilterLayer::new()
        .allow("2001:db8::/32, 127.0.0.1")
        .unwrap();
    let denied = Server::start_on(loopback, denied).await;
    assert_refused(&denied.post(&[]).await, Reason::IpNotAllowed);
    assert_eq!(denied.calls(), 0);
}

/// A dual-stack listener reports an IPv4 client as `::ffff:127.0.0.1`; the
/// IPv4 allowlist entry must still match, and the handler sees plain IPv4.
#[tokio::test]
async fn ipv4_mapped_peer_matches_ipv4_rules() {
    let Ok(listener) = tokio::net::TcpListener::bind((Ipv6Addr::UNSPECIFIED, 0)).await else {
        eprintln!("note: no IPv6 in this environment; skipping the IPv4-mapped test");
        return;
    };
    let port = listener.local_addr().unwrap().port();
    let peers = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = Arc::clone(&peers);
    let router = Router::new()
        .route(
            "/hook",
            routing::post(
                move |ConnectInfo(peer): ConnectInfo<SocketAddr>, verification: Verification| {
                    seen.lock().unwrap().push(peer);
                    async move { verification.client_ip.unwrap().to_string() }
                },
            ),
        )
        .layer(IpFilterLayer::new().allow("127.0.0.0/8").unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let reply = send(post(addr, "/hook").body(Full::default()).unwrap()).await;
    let peer = peers.lock().unwrap().first().copied();
    match peer {
        Some(peer) if peer.ip().to_string().starts_with("::ffff:") => {
            assert_accepted(&reply, "127.0.0.1");
        }
        // The listener is IPv6-only here (bindv6only=1): nothing mapped to
        // test over HTTP; the resolver's unit tests cover the mapping.
        _ => eprintln!("note: dual-stack sockets unavailable ({peer:?}, {reply:?})"),
    }
}

fn behind_proxy() -> IpFilterLayer {
    IpFilterLayer::new()
        .allow("203.0.113.0/24, 2001:db8::/32")
        .unwrap()
        .trust_proxies("127.0.0.1, 10.0.0.0/8")
        .unwrap()
}

#[tokio::test]
async fn trusted_proxy_x_forwarded_for() {
    let server = Server::start(behind_proxy().client_ip_from_x_forwarded_for()).await;
    let cases = [
        ("203.0.113.7", Ok("203.0.113.7")),
        // Walk from the right past the trusted 10.x hop; the left was written
        // by the client and is never read.
        ("198.51.100.1, 203.0.113.7, 10.1.1.1", Ok("203.0.113.7")),
        ("203.0.113.7, 198.51.100.1", Err(Reason::IpNotAllowed)),
        ("[2001:db8::9]:443, 10.1.1.1", Ok("2001:db8::9")),
        ("::ffff:203.0.113.8", Ok("203.0.113.8")),
    ];
    for (xff, expected) in cases {
        let reply = server.post(&[("x-forwarded-for", xff)]).await;
        match expected {
            Ok(ip) => assert_accepted(&reply, ip),
            Err(reason) => assert_refused(&reply, reason),
        }
    }
    assert_eq!(server.calls(), 4);
}

#[tokio::test]
async fn several_x_forwarded_for_lines_are_read_in_order() {
    let server = Server::start(behind_proxy()).await;
    // As one list: "203.0.113.7, 198.51.100.1, 10.0.0.1" -> 198.51.100.1.
    // Read in the wrong order it would be 203.0.113.7, which is allowed.
    let reply = server
        .post(&[
            ("x-forwarded-for", "203.0.113.7"),
            ("x-forwarded-for", "198.51.100.1, 10.0.0.1"),
        ])
        .await;
    assert_refused(&reply, Reason::IpNotAllowed);

    let reply = server
        .post(&[
            ("x-forwarded-for", "198.51.100.1"),
            ("x-forwarded-for", "203.0.113.7, 10.0.0.1"),
        ])
        .await;
    assert_accepted(&reply, "203.0.113.7");
}

#[tokio::test]
async fn trusted_proxy_forwarded() {
    let server = Server::start(behind_proxy().client_ip_from_forwarded()).await;
    let cases = [
        (
            r#"for="[2001:db8::1]:4711";proto=https;by=10.0.0.1, for=10.0.0.2"#,
            Ok("2001:db8::1"),
        ),
        ("for=203.0.113.9", Ok("203.0.113.9")),
        ("for=198.51.100.1;proto=https", Err(Reason::IpNotAllowed)),
        ("for=_hidden", Err(Reason::ClientIpUnknown)),
        ("for=unknown", Err(Reason::ClientIpUnknown)),
        // Obfuscated hop right of a listed one: the walk stops there.
        ("for=203.0.113.9, for=_proxy7", Err(Reason::ClientIpUnknown)),
        (r#"for="[fe80::1%25eth0]""#, Err(Reason::ClientIpUnknown)),
        (
            r#"for="203.0.113.9, for=10.0.0.1"#,
            Err(Reason::ClientIpUnknown),
        ),
    ];
    for (forwarded, expected) in cases {
        let reply = server.post(&[("forwarded", forwarded)]).await;
        match expected {
            Ok(ip) => assert_accepted(&reply, ip),
            Err(reason) => assert_refused(&reply, reason),
        }
    }
    // Forwarded was chosen, so X-Forwarded-For is not read.
    let reply = server.post(&[("x-forwarded-for", "203.0.113.7")]).await;
    assert_refused(&reply, Reason::IpNotAllowed);
    assert_eq!(server.calls(), 2);
}

#[tokio::test]
async fn spoofed_headers_from_an_untrusted_peer_are_ignored() {
    let layer = IpFilterLayer::new()
        .allow("203.0.113.0/24")
        .unwrap()
        .trust_proxies("10.0.0.0/8")
        .unwrap()
        .client_ip_from_x_forwarded_for()
        .client_ip_from_forwarded();
    let server = Server::start(layer).await;
    let spoofed = [
        ("x-forwarded-for", "203.0.113.7"),
        ("forwarded", "for=203.0.113.7"),
    ];
    assert_refused(&server.post(&spoofed).await, Reason::IpNotAllowed);
    assert_eq!(server.calls(), 0);

    // With any source allowed, the recorded address is still the peer's.
    let open = IpFilterLayer::new().trust_proxies("10.0.0.0/8").unwrap();
    let server = Server::start(open).await;
    assert_accepted(&server.post(&spoofed).await, "127.0.0.1");
}

#[tokio::test]
async fn garbage_x_forwarded_for_fails_closed() {
    let server = Server::start(behind_proxy()).await;
    for garbage in [
        "not-an-ip",
        "203.0.113.7, garbage",
        "203.0.113.7,",
        "unknown",
        "_hidden",
        "203.0.113.7 198.51.100.1",
        "203.0.113.256",
        "fe80::1%eth0",
        "[fe80::1%eth0]:443",
    ] {
        let reply = server.post(&[("x-forwarded-for", garbage)]).await;
        assert_refused(&reply, Reason::ClientIpUnknown);
    }
    assert_eq!(server.calls(), 0);
}

#[tokio::test]
async fn oversized_x_forwarded_for_is_bounded_and_refused_cleanly() {
    let server = Server::start(behind_proxy()).await;

    // 64 KiB of one entry.
    let huge_entry = "9".repeat(64 * 1024);
    assert_refused(
        &server.post(&[("x-forwarded-for", &huge_entry)]).await,
        Reason::ClientIpUnknown,
    );

    // 10,000 trusted hops: more than the walk will follow.
    let trusted_run = format!("203.0.113.7, {}", vec!["10.0.0.1"; 10_000].join(", "));
    assert!(trusted_run.len() > 64 * 1024);
    assert_refused(
        &server.post(&[("x-forwarded-for", &trusted_run)]).await,
        Reason::ClientIpUnknown,
    );

    // 10,000 client-written entries left of the real client are never read.
    let padded = format!("{}, 203.0.113.7, 10.0.0.1", vec!["x"; 10_000].join(", "));
    assert_accepted(
        &server.post(&[("x-forwarded-for", &padded)]).await,
        "203.0.113.7",
    );

    // The same through Forwarded.
    let server = Server::start(behind_proxy().client_ip_from_forwarded()).await;
    let trusted_run = format!(
        "for=203.0.113.7, {}",
        vec!["for=10.0.0.1"; 10_000].join(", ")
    );
    assert_refused(
        &server.post(&[("forwarded", &trusted_run)]).await,
        Reason::ClientIpUnknown,
    );
    let padded = format!("{}, for=203.0.113.7", vec!["for=x"; 10_000].join(", "));
    assert_accepted(&server.post(&[("forwarded", &padded)]).await, "203.0.113.7");
}

/// A refused source is answered from the head alone: the handler never
/// runs and the server does not wait for a body that never finishes.
#[tokio::test]
async fn refused_before_the_body_is_read() {
    let server = Server::start(IpFilterLayer::new().allow("10.0.0.0/8").unwrap()).await;
    let request = format!(
        "POST /hook HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\n\
         content-length: 1000000\r\n\r\n{{\"partial\":",
        server.addr
    );
    // The body never completes; if the server waited for it, nothing would
    // come back before `wait` runs out and `raw_status` would panic.
    let reply = raw_exchange(server.addr, request.as_bytes(), Duration::from_secs(60)).await;
    assert_eq!(raw_status(&reply), 403, "{reply}");
    assert!(reply.contains("x-test-reason: ip_not_allowed"), "{reply}");
    assert_eq!(server.calls(), 0);
}

/// `POST /hook` from 127.0.0.1 (the "proxy") with `headers`.
async fn via_proxy(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = post(addr, path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(request.body(Full::new(Bytes::from_static(b"{}"))).unwrap()).await
}

#[tokio::test]
async fn x_real_ip_is_read_from_trusted_proxies_only_and_fails_closed() {
    use tower_webhook::ip::ClientIp;
    let behind_nginx = ClientIp::new()
        .trust_proxies("127.0.0.1")
        .unwrap()
        .use_x_real_ip();
    let filter = IpFilterLayer::new()
        .allow("203.0.113.0/24")
        .unwrap()
        .client_ip(behind_nginx);
    let app = Router::new().route(
        "/hook",
        routing::post(|v: Verification| async move { v.client_ip.unwrap().to_string() })
            .layer(filter),
    );
    let addr = serve_on(IpAddr::V4(Ipv4Addr::LOCALHOST), app).await;
    let reply = via_proxy(addr, "/hook", &[("x-real-ip", "203.0.113.9")]).await;
    assert_eq!(
        (reply.status, reply.text()),
        (StatusCode::OK, "203.0.113.9".into())
    );
    let reply = via_proxy(addr, "/hook", &[("x-real-ip", "198.51.100.1")]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    // Twice, or garbage: unknown, refused.
    for headers in [
        &[("x-real-ip", "203.0.113.9"), ("x-real-ip", "203.0.113.10")][..],
        &[("x-real-ip", "203.0.113.9, 10.0.0.1")][..],
        &[("x-real-ip", "not an address")][..],
    ] {
        let reply = via_proxy(addr, "/hook", headers).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{headers:?}");
    }
}

#[tokio::test]
async fn the_stacks_client_ip_reaches_the_audit_and_the_filter() {
    use tower_webhook::audit::AuditLayer;
    use tower_webhook::ip::ClientIp;
    use tower_webhook::WebhookStack;
    let behind_proxy = ClientIp::new()
        .trust_proxies("127.0.0.1")
        .unwrap()
        .use_x_forwarded_for();
    // Without an allowlist (a signature-only stack would be the same): the
    // audit records the client, not the proxy.
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (on_accept, on_reject) = (Arc::clone(&seen), Arc::clone(&seen));
    let audit = AuditLayer::without_sinks()
        .on_accept(move |e: &tower_webhook::audit::AuditEvent| {
            on_accept.lock().unwrap().push(e.client_ip)
        })
        .on_reject(move |e: &tower_webhook::audit::AuditEvent| {
            on_reject.lock().unwrap().push(e.client_ip)
        });
    let recorded = WebhookStack::new()
        .client_ip(behind_proxy.clone())
        .ip_filter(IpFilterLayer::new().allow("203.0.113.0/24").unwrap())
        .audit(audit)
        .build()
        .unwrap();
    let app = Router::new().route(
        "/hook",
        routing::post(|v: Verification| async move { v.client_ip.unwrap().to_string() })
            .layer(recorded),
    );
    let addr = serve_on(IpAddr::V4(Ipv4Addr::LOCALHOST), app).await;
    // The filter has no proxy list of its own: the stack's is used.
    let reply = via_proxy(addr, "/hook", &[("x-forwarded-for", "203.0.113.7")]).await;
    assert_eq!(
        (reply.status, reply.text()),
        (StatusCode::OK, "203.0.113.7".into())
    );
    let reply = via_proxy(addr, "/hook", &[("x-forwarded-for", "198.51.100.7")]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    // Garbage from the proxy: refused, never judged as the proxy's address.
    let reply = via_proxy(addr, "/hook", &[("x-forwarded-for", "garbage")]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let ips: Vec<Option<IpAddr>> = seen.lock().unwrap().clone();
    assert_eq!(
        ips,
        vec![
            Some("203.0.113.7".parse().unwrap()),
            Some("198.51.100.7".parse().unwrap()),
            None
        ]
    );
}
