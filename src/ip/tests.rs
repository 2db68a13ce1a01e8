//! The IP filter's decisions, one request at a time through the layer
//! (`oneshot`): the peer address is the `SocketAddr` extension a server
//! inserts, the proxies' headers are plain headers. Moved from the HTTP
//! tests (`tests/library/ip_filter.rs`), which keep what needs a socket: a
//! dual-stack listener, a body that never finishes, the stack's audit.

use std::net::{IpAddr, SocketAddr};

use http::{Request, StatusCode};

use super::{ClientIp, IpFilterLayer};
use crate::test_support::{empty, oneshot, Reply};
use crate::Reason;

/// `POST /hook` from `peer` with `headers` (repeated names kept).
async fn post_from(layer: &IpFilterLayer, peer: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = Request::post("/hook").extension(peer.parse::<SocketAddr>().unwrap());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    oneshot(layer, empty(request)).await
}

/// From 127.0.0.1, the proxy of these tests.
async fn post(layer: &IpFilterLayer, headers: &[(&str, &str)]) -> Reply {
    post_from(layer, "127.0.0.1:40000", headers).await
}

#[track_caller]
fn assert_accepted(reply: &Reply, client_ip: &str) {
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(
        reply.verification().client_ip,
        Some(client_ip.parse::<IpAddr>().unwrap())
    );
}

#[track_caller]
fn assert_refused(reply: &Reply, expected: Reason) {
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{reply:?}");
    assert_eq!(reply.reason, Some(expected));
    // The body says no more than the status line.
    assert_eq!(reply.text(), "Forbidden");
    assert!(!reply.was_handled());
}

fn behind_proxy() -> IpFilterLayer {
    IpFilterLayer::new()
        .allow("203.0.113.0/24, 2001:db8::/32")
        .unwrap()
        .trust_proxies("127.0.0.1, 10.0.0.0/8")
        .unwrap()
}

#[tokio::test]
async fn allowed_ipv4_reaches_the_handler_with_its_ip() {
    let layer = IpFilterLayer::new().allow("10.0.0.0/8, 127.0.0.1").unwrap();
    assert_accepted(&post(&layer, &[]).await, "127.0.0.1");
}

#[tokio::test]
async fn unlisted_ipv4_gets_403_and_the_handler_never_runs() {
    let layer = IpFilterLayer::new().allow("10.0.0.0/8, ::1").unwrap();
    assert_refused(&post(&layer, &[]).await, Reason::IpNotAllowed);
}

#[tokio::test]
async fn allow_any_admits_anyone_and_still_records_the_ip() {
    // A blank list is refused (an unset variable must not open the
    // endpoint); admitting every source is said out loud.
    assert!(IpFilterLayer::new().allow("  ").is_err());
    let layer = IpFilterLayer::new().allow_any();
    assert_accepted(&post(&layer, &[]).await, "127.0.0.1");
}

#[tokio::test]
async fn ipv6_client() {
    let allowed = IpFilterLayer::new().allow("::1/128").unwrap();
    assert_accepted(&post_from(&allowed, "[::1]:40000", &[]).await, "::1");

    let denied = IpFilterLayer::new()
        .allow("2001:db8::/32, 127.0.0.1")
        .unwrap();
    assert_refused(
        &post_from(&denied, "[::1]:40000", &[]).await,
        Reason::IpNotAllowed,
    );
}

#[tokio::test]
async fn trusted_proxy_x_forwarded_for() {
    let layer = behind_proxy().client_ip_from_x_forwarded_for();
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
        let reply = post(&layer, &[("x-forwarded-for", xff)]).await;
        match expected {
            Ok(ip) => assert_accepted(&reply, ip),
            Err(reason) => assert_refused(&reply, reason),
        }
    }
}

#[tokio::test]
async fn several_x_forwarded_for_lines_are_read_in_order() {
    let layer = behind_proxy();
    // As one list: "203.0.113.7, 198.51.100.1, 10.0.0.1" -> 198.51.100.1.
    // Read in the wrong order it would be 203.0.113.7, which is allowed.
    let reply = post(
        &layer,
        &[
            ("x-forwarded-for", "203.0.113.7"),
            ("x-forwarded-for", "198.51.100.1, 10.0.0.1"),
        ],
    )
    .await;
    assert_refused(&reply, Reason::IpNotAllowed);

    let reply = post(
        &layer,
        &[
            ("x-forwarded-for", "198.51.100.1"),
            ("x-forwarded-for", "203.0.113.7, 10.0.0.1"),
        ],
    )
    .await;
    assert_accepted(&reply, "203.0.113.7");
}

#[tokio::test]
async fn trusted_proxy_forwarded() {
    let layer = behind_proxy().client_ip_from_forwarded();
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
        let reply = post(&layer, &[("forwarded", forwarded)]).await;
        match expected {
            Ok(ip) => assert_accepted(&reply, ip),
            Err(reason) => assert_refused(&reply, reason),
        }
    }
    // Forwarded was chosen, so X-Forwarded-For is not read.
    let reply = post(&layer, &[("x-forwarded-for", "203.0.113.7")]).await;
    assert_refused(&reply, Reason::IpNotAllowed);
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
    let spoofed = [
        ("x-forwarded-for", "203.0.113.7"),
        ("forwarded", "for=203.0.113.7"),
    ];
    assert_refused(&post(&layer, &spoofed).await, Reason::IpNotAllowed);

    // With any source allowed, the recorded address is still the peer's.
    let open = IpFilterLayer::new().trust_proxies("10.0.0.0/8").unwrap();
    assert_accepted(&post(&open, &spoofed).await, "127.0.0.1");
}

#[tokio::test]
async fn garbage_x_forwarded_for_fails_closed() {
    let layer = behind_proxy();
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
        let reply = post(&layer, &[("x-forwarded-for", garbage)]).await;
        assert_refused(&reply, Reason::ClientIpUnknown);
    }
}

#[tokio::test]
async fn oversized_x_forwarded_for_is_bounded_and_refused_cleanly() {
    let layer = behind_proxy();

    // 64 KiB of one entry.
    let huge_entry = "9".repeat(64 * 1024);
    assert_refused(
        &post(&layer, &[("x-forwarded-for", &huge_entry)]).await,
        Reason::ClientIpUnknown,
    );

    // 10,000 trusted hops: more than the walk will follow.
    let trusted_run = format!("203.0.113.7, {}", vec!["10.0.0.1"; 10_000].join(", "));
    assert!(trusted_run.len() > 64 * 1024);
    assert_refused(
        &post(&layer, &[("x-forwarded-for", &trusted_run)]).await,
        Reason::ClientIpUnknown,
    );

    // 10,000 client-written entries left of the real client are never read.
    let padded = format!("{}, 203.0.113.7, 10.0.0.1", vec!["x"; 10_000].join(", "));
    assert_accepted(
        &post(&layer, &[("x-forwarded-for", &padded)]).await,
        "203.0.113.7",
    );

    // The same through Forwarded.
    let layer = behind_proxy().client_ip_from_forwarded();
    let trusted_run = format!(
        "for=203.0.113.7, {}",
        vec!["for=10.0.0.1"; 10_000].join(", ")
    );
    assert_refused(
        &post(&layer, &[("forwarded", &trusted_run)]).await,
        Reason::ClientIpUnknown,
    );
    let padded = format!("{}, for=203.0.113.7", vec!["for=x"; 10_000].join(", "));
    assert_accepted(
        &post(&layer, &[("forwarded", &padded)]).await,
        "203.0.113.7",
    );
}

#[tokio::test]
async fn x_real_ip_is_read_from_trusted_proxies_only_and_fails_closed() {
    let behind_nginx = ClientIp::new()
        .trust_proxies("127.0.0.1")
        .unwrap()
        .use_x_real_ip();
    let filter = IpFilterLayer::new()
        .allow("203.0.113.0/24")
        .unwrap()
        .client_ip(behind_nginx);
    assert_accepted(
        &post(&filter, &[("x-real-ip", "203.0.113.9")]).await,
        "203.0.113.9",
    );
    let reply = post(&filter, &[("x-real-ip", "198.51.100.1")]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    // Twice, or garbage: unknown, refused.
    for headers in [
        &[("x-real-ip", "203.0.113.9"), ("x-real-ip", "203.0.113.10")][..],
        &[("x-real-ip", "203.0.113.9, 10.0.0.1")][..],
        &[("x-real-ip", "not an address")][..],
    ] {
        let reply = post(&filter, headers).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{headers:?}");
        assert!(!reply.was_handled());
    }
    // Not from a trusted proxy: the header is not read, the peer is judged.
    let reply = post_from(&filter, "198.51.100.2:1", &[("x-real-ip", "203.0.113.9")]).await;
    assert_refused(&reply, Reason::IpNotAllowed);
}
