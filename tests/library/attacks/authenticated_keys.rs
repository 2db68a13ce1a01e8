//! Only authenticated data decides which delivery a request is: captured
//! signed bytes re-sent under new unsigned headers, a re-encoded path, a
//! dropped rotation signature or forged Mailgun event data never run the
//! handler twice. Through a real server on 127.0.0.1.

use crate::support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use support::unix_now;

use axum::routing::post;
use axum::Router;
use http::{HeaderName, HeaderValue, StatusCode};
use tower_webhook::extract::Verified;
use tower_webhook::idempotency::{IdempotencyLayer, KeySource};
use tower_webhook::ip::IpFilterLayer;
use tower_webhook::provider::{self, mailgun};
use tower_webhook::replay::ReplayLayer;
use tower_webhook::signature::{Key, Keyring, SignatureLayer};
use tower_webhook::stack::{StackError, WebhookStack};
use tower_webhook::token::{TokenLayer, TokenSet};
use tower_webhook::{Secret, WebhookLayer};

use support::{is_replayed, post_with, signed_headers, Reply};

const STANDARD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const GITHUB_SECRET: &str = "It's a Secret to Everybody";
const MAILGUN_KEY: &str = "key-7d2f1e0c9b8a";

type Headers = Vec<(HeaderName, HeaderValue)>;

fn header(name: &'static str, value: &str) -> (HeaderName, HeaderValue) {
    (
        HeaderName::from_static(name),
        HeaderValue::from_str(value).unwrap(),
    )
}

/// A server with `stack` on `path` (an axum route pattern) whose handler
/// counts its runs.
struct Server {
    addr: std::net::SocketAddr,
    runs: Arc<AtomicUsize>,
}

impl Server {
    async fn start(path: &str, stack: WebhookLayer) -> Self {
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&runs);
        let router = Router::new().route(
            path,
            post(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                async { "handled" }
            })
            .layer(stack),
        );
        Self {
            addr: support::serve(router).await,
            runs,
        }
    }

    async fn post(&self, path: &str, headers: &Headers, body: &[u8]) -> Reply {
        post_with(self.addr, path, headers, body).await
    }

    fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }
}

fn standard_stack() -> WebhookStack {
    WebhookStack::new()
        .signature(SignatureLayer::standard_webhooks(
            Secret::from_whsec(STANDARD_SECRET).unwrap(),
        ))
        .replay(ReplayLayer::signed_timestamp())
        .idempotency(IdempotencyLayer::new())
}

#[tokio::test]
async fn a_fresh_idempotency_key_header_does_not_rerun_a_signed_delivery() {
    let server = Server::start("/hook", standard_stack().build().unwrap()).await;
    let body = br#"{"type":"invoice.paid"}"#;
    let signed = signed_headers("standard", STANDARD_SECRET, body, unix_now(), "msg_1");
    for copy in 0..4 {
        let mut headers = signed.clone();
        headers.push(header("idempotency-key", &format!("attacker-{copy}")));
        let reply = server.post("/hook", &headers, body).await;
        assert_eq!(reply.status, StatusCode::OK, "copy {copy}");
        assert_eq!(is_replayed(&reply), copy > 0, "copy {copy}");
    }
    assert_eq!(server.runs(), 1);
}

#[tokio::test]
async fn github_bytes_under_a_new_delivery_header_are_the_same_delivery() {
    let stack = WebhookStack::new()
        .signature(SignatureLayer::github(Secret::new(GITHUB_SECRET).unwrap()))
        .idempotency(IdempotencyLayer::new())
        .build()
        .unwrap();
    let server = Server::start("/hook", stack).await;
    let body = br#"{"zen":"Anything added dilutes everything else."}"#;
    let signed = signed_headers("github", GITHUB_SECRET, body, 0, "unused");
    for delivery in ["d-1", "d-2", "d-3"] {
        let mut headers = signed.clone();
        headers.push(header("x-github-delivery", delivery));
        headers.push(header("idempotency-key", delivery));
        assert_eq!(
            server.post("/hook", &headers, body).await.status,
            StatusCode::OK
        );
    }
    assert_eq!(server.runs(), 1);

    // Another signed body is another delivery.
    let other = br#"{"zen":"Keep it logically awesome."}"#;
    let headers = signed_headers("github", GITHUB_SECRET, other, 0, "unused");
    assert!(!is_replayed(&server.post("/hook", &headers, other).await));
    assert_eq!(server.runs(), 2);
}

fn mailgun_body(block: &serde_json::Value, event: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "signature": block,
        "event-data": { "event": event, "recipient": "alice@example.com" },
    }))
    .unwrap()
}

#[tokio::test]
async fn a_mailgun_signature_block_runs_once_whatever_event_data_comes_with_it() {
    let key = Secret::new(MAILGUN_KEY).unwrap();
    let stack = WebhookStack::new()
        .signature(SignatureLayer::new(mailgun::mailgun(), Keyring::single(key.clone())).unwrap())
        .idempotency(IdempotencyLayer::new())
        .build()
        .unwrap();
    let server = Server::start("/mailgun", stack).await;
    let block = mailgun::signature_block(&key, unix_now(), "token-0123456789abcdef0123456789");
    let json = header("content-type", "application/json");

    let genuine = mailgun_body(&block, "delivered");
    let reply = server.post("/mailgun", &vec![json.clone()], &genuine).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    for forged_event in ["failed", "complained", "unsubscribed"] {
        let forged = mailgun_body(&block, forged_event);
        let headers = vec![json.clone(), header("idempotency-key", forged_event)];
        let reply = server.post("/mailgun", &headers, &forged).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(is_replayed(&reply), "{forged_event} ran the handler again");
    }
    assert_eq!(server.runs(), 1);
}

#[test]
fn a_mailgun_body_field_cannot_key_a_delivery() {
    // The event data is not signed: a key taken from it is refused at build.
    let key = Secret::new(MAILGUN_KEY).unwrap();
    let refused = WebhookStack::new()
        .signature(SignatureLayer::new(mailgun::mailgun(), Keyring::single(key)).unwrap())
        .idempotency(IdempotencyLayer::from_json_field("/event-data/id"))
        .build();
    assert!(
        matches!(refused, Err(StackError::Idempotency(_))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_re_encoded_path_is_the_same_route() {
    let stack = WebhookStack::new()
        .signature(SignatureLayer::github(Secret::new(GITHUB_SECRET).unwrap()))
        .idempotency(IdempotencyLayer::new())
        .build()
        .unwrap();
    let server = Server::start("/hooks/{tenant}", stack).await;
    let body = br#"{"action":"opened"}"#;
    let headers = signed_headers("github", GITHUB_SECRET, body, 0, "unused");
    assert!(!is_replayed(
        &server.post("/hooks/acme", &headers, body).await
    ));
    for spelling in ["/hooks/%61cme", "/hooks/ac%6De", "/hooks/%61%63%6d%65"] {
        let reply = server.post(spelling, &headers, body).await;
        assert_eq!(reply.status, StatusCode::OK, "{spelling}");
        assert!(is_replayed(&reply), "{spelling} ran the handler again");
    }
    assert_eq!(server.runs(), 1);
}

#[tokio::test]
async fn dropping_one_of_two_rotation_signatures_keeps_the_key() {
    // Stripe signs with every active secret during a rotation; a copy with
    // one of the two signatures removed still verifies and must still be
    // the same delivery. The body has no `id`, so the key is the digest.
    let keyring = Keyring::new()
        .with(Key::new(
            "old",
            Secret::new("whsec_old_0123456789").unwrap(),
        ))
        .with(Key::new(
            "new",
            Secret::new("whsec_new_0123456789").unwrap(),
        ));
    let stack = WebhookStack::new()
        .signature(SignatureLayer::new(provider::stripe::stripe(), keyring).unwrap())
        .idempotency(IdempotencyLayer::new())
        .build()
        .unwrap();
    let server = Server::start("/stripe", stack).await;
    let body = br#"{"object":"event"}"#;
    let now = unix_now();
    let v1 = |secret: &str| {
        let headers = signed_headers("stripe", secret, body, now, "unused");
        let value = headers[0].1.to_str().unwrap().to_owned();
        value.split_once(",v1=").unwrap().1.to_owned()
    };
    let (old, new) = (v1("whsec_old_0123456789"), v1("whsec_new_0123456789"));
    let both = vec![header(
        "stripe-signature",
        &format!("t={now},v1={old},v1={new}"),
    )];
    assert!(!is_replayed(&server.post("/stripe", &both, body).await));
    for only in [&old, &new] {
        let one = vec![header("stripe-signature", &format!("t={now},v1={only}"))];
        let reply = server.post("/stripe", &one, body).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(is_replayed(&reply));
    }
    assert_eq!(server.runs(), 1);
}

#[tokio::test]
async fn stripe_is_keyed_on_its_signed_event_id_across_retries() {
    // Stripe re-signs each retry with a new timestamp; the event id in the
    // signed body makes them one delivery.
    let secret = "whsec_stripe_0123456789";
    let stack = WebhookStack::new()
        .signature(SignatureLayer::stripe(Secret::new(secret).unwrap()))
        .replay(ReplayLayer::signed_timestamp().past_only())
        .idempotency(IdempotencyLayer::new())
        .build()
        .unwrap();
    let server = Server::start("/stripe", stack).await;
    let body = br#"{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event"}"#;
    for (retry, at) in [unix_now() - 120, unix_now() - 60, unix_now()]
        .into_iter()
        .enumerate()
    {
        let headers = signed_headers("stripe", secret, body, at, "unused");
        let reply = server.post("/stripe", &headers, body).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(is_replayed(&reply), retry > 0);
    }
    assert_eq!(server.runs(), 1);
}

#[tokio::test]
async fn a_legacy_token_cannot_claim_a_signed_delivery_id_in_advance() {
    let legacy = TokenSet::new().with("legacy", Secret::new("legacy-token-0123456789").unwrap());
    let stack = WebhookStack::new()
        .signature(
            SignatureLayer::standard_webhooks(Secret::from_whsec(STANDARD_SECRET).unwrap())
                .accept_legacy_token(HeaderName::from_static("x-legacy-token"), legacy),
        )
        .idempotency(IdempotencyLayer::new())
        .build()
        .unwrap();
    let server = Server::start("/hook", stack).await;
    let body = br#"{"type":"ping"}"#;
    // A holder of the (weaker) legacy token names the id a signed delivery
    // will carry...
    let squatter = vec![
        header("x-legacy-token", "legacy-token-0123456789"),
        header("webhook-id", "msg_upcoming"),
    ];
    assert!(!is_replayed(&server.post("/hook", &squatter, body).await));
    // ...and the signed delivery still runs.
    let signed = signed_headers(
        "standard",
        STANDARD_SECRET,
        body,
        unix_now(),
        "msg_upcoming",
    );
    let reply = server.post("/hook", &signed, body).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(!is_replayed(&reply));
    assert_eq!(server.runs(), 2);
}

#[tokio::test]
async fn identical_repeated_delivery_headers_are_one_key() {
    // One rule for repeated headers in every layer: identical copies (a
    // proxy duplicating a header) are one value.
    let token = TokenLayer::header(HeaderName::from_static("x-token"))
        .accept("ci", Secret::new("token-0123456789abcdef").unwrap());
    let stack = WebhookStack::new()
        .token(token)
        .idempotency(IdempotencyLayer::from_unsigned_header(
            HeaderName::from_static("webhook-id"),
        ))
        .build()
        .unwrap();
    let server = Server::start("/hook", stack).await;
    let credential = header("x-token", "token-0123456789abcdef");
    let twice = vec![
        credential.clone(),
        header("webhook-id", "msg_1"),
        header("webhook-id", "msg_1"),
    ];
    assert_eq!(
        server.post("/hook", &twice, b"{}").await.status,
        StatusCode::OK
    );
    assert!(is_replayed(&server.post("/hook", &twice, b"{}").await));
    let differing = vec![
        credential,
        header("webhook-id", "msg_1"),
        header("webhook-id", "msg_2"),
    ];
    assert_eq!(
        server.post("/hook", &differing, b"{}").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(server.runs(), 1);

    // The same for a signed id the signature layer accepted twice over.
    let server = Server::start("/hook", standard_stack().build().unwrap()).await;
    let mut signed = signed_headers("standard", STANDARD_SECRET, b"{}", unix_now(), "msg_2");
    signed.push(header("webhook-id", "msg_2"));
    assert_eq!(
        server.post("/hook", &signed, b"{}").await.status,
        StatusCode::OK
    );
    assert!(is_replayed(&server.post("/hook", &signed, b"{}").await));
    assert_eq!(server.runs(), 1);
}

#[test]
fn the_stack_refuses_key_sources_that_cannot_serve_its_requests() {
    let github = || SignatureLayer::github(Secret::new(GITHUB_SECRET).unwrap());
    let token = || {
        TokenLayer::header(HeaderName::from_static("x-token"))
            .accept("ci", Secret::new("token-0123456789abcdef").unwrap())
    };
    let delivery = || HeaderName::from_static("x-github-delivery");

    // No source at all.
    let refused = WebhookStack::new()
        .signature(github())
        .idempotency(IdempotencyLayer::from_sources([]))
        .build();
    assert!(matches!(refused, Err(StackError::Idempotency(_))));

    // Signed keys without a signature layer.
    let refused = WebhookStack::new()
        .token(token())
        .idempotency(IdempotencyLayer::from_signed_delivery())
        .build();
    assert!(matches!(refused, Err(StackError::Idempotency(_))));

    // An unsigned header next to a signature: the error explains the replay.
    let refused = WebhookStack::new()
        .signature(github())
        .idempotency(IdempotencyLayer::from_unsigned_header(delivery()))
        .build()
        .unwrap_err();
    assert!(refused.to_string().contains("captured"), "{refused}");
    // ...unless accepted by name.
    assert!(WebhookStack::new()
        .signature(github())
        .idempotency(
            IdempotencyLayer::from_unsigned_header(delivery())
                .accept_unsigned_keys_for_signed_requests()
        )
        .build()
        .is_ok());
    // An unsigned header as a fallback for token senders is fine.
    assert!(WebhookStack::new()
        .token(token())
        .idempotency(IdempotencyLayer::from_unsigned_header(delivery()))
        .build()
        .is_ok());
    assert_eq!(
        IdempotencyLayer::new().key_sources()[0],
        KeySource::SignedDelivery
    );
}

#[test]
fn layers_that_verify_nothing_are_not_authentication() {
    let refused = WebhookStack::new()
        .signature(SignatureLayer::insecure_no_verification())
        .build();
    assert_eq!(refused.unwrap_err(), StackError::NoAuthentication);
    let refused = WebhookStack::new()
        .token(TokenLayer::without_verification())
        .build();
    assert_eq!(refused.unwrap_err(), StackError::NoAuthentication);
    // Said by name, they build.
    assert!(WebhookStack::new()
        .signature(SignatureLayer::insecure_no_verification())
        .insecure_no_authentication()
        .build()
        .is_ok());
    // A token layer with no token would refuse everyone.
    let refused = WebhookStack::new()
        .token(TokenLayer::header(HeaderName::from_static("x-token")))
        .build();
    assert_eq!(refused.unwrap_err(), StackError::NoTokens);
}

#[tokio::test]
async fn an_allowlist_only_stack_and_the_verified_extractor_agree() {
    let stack = WebhookStack::new()
        .ip_filter(IpFilterLayer::new().allow("127.0.0.1, ::1").unwrap())
        .build()
        .unwrap();
    let router = Router::new().route(
        "/hook",
        post(|verified: Verified<String>| async move {
            let auth = verified.verification.authentication.unwrap();
            format!("{} {}", auth.method, verified.payload)
        })
        .layer(stack),
    );
    let addr = support::serve(router).await;
    let reply = post_with(addr, "/hook", &[], b"hello").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.text(), "ip_allowlist hello");
}

#[tokio::test]
async fn github_delivery_keys_are_an_opt_in_behind_github_hook_ranges() {
    use tower_webhook::provider::github::GITHUB_HOOK_RANGES;
    let github = || WebhookStack::github(Secret::new(GITHUB_SECRET).unwrap());
    // Without an allowlist, with one admitting anyone, or one reaching
    // beyond GitHub's hook ranges: refused when built.
    for filter in [
        None,
        Some(IpFilterLayer::new().allow_any()),
        Some(IpFilterLayer::new().allow("0.0.0.0/0").unwrap()),
        Some(
            IpFilterLayer::new()
                .allow(&format!("{GITHUB_HOOK_RANGES}, 198.51.100.0/24"))
                .unwrap(),
        ),
    ] {
        let mut stack = github().insecure_key_on_github_delivery();
        if let Some(filter) = filter {
            stack = stack.ip_filter(filter);
        }
        assert_eq!(
            stack.build().err(),
            Some(StackError::DeliveryKeyWithoutAllowlist)
        );
    }
    // Behind a proxy on loopback, from GitHub's ranges: each redelivery
    // (a new X-GitHub-Delivery) runs the handler, a repeated id does not.
    let filter = IpFilterLayer::new()
        .allow(GITHUB_HOOK_RANGES)
        .unwrap()
        .trust_proxies("127.0.0.1")
        .unwrap()
        .client_ip_from_x_forwarded_for();
    let stack = github()
        .ip_filter(filter)
        .insecure_key_on_github_delivery()
        .build()
        .unwrap();
    let server = Server::start("/hook", stack).await;
    let body = br#"{"action":"opened"}"#;
    let signed = signed_headers("github", GITHUB_SECRET, body, 0, "unused");
    let send = |delivery: &str, from: &str| {
        let mut headers = signed.clone();
        headers.push(header("x-github-delivery", delivery));
        headers.push(header("x-forwarded-for", from));
        headers
    };
    for (delivery, from, status, replayed) in [
        ("d-1", "140.82.112.5", StatusCode::OK, false),
        ("d-2", "140.82.112.5", StatusCode::OK, false),
        ("d-1", "192.30.252.9", StatusCode::OK, true),
        ("d-3", "198.51.100.7", StatusCode::FORBIDDEN, false),
    ] {
        let reply = server.post("/hook", &send(delivery, from), body).await;
        assert_eq!(reply.status, status, "{delivery} from {from}");
        assert_eq!(is_replayed(&reply), replayed, "{delivery} from {from}");
    }
    assert_eq!(server.runs(), 2);
}
