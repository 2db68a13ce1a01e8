//! The audit layer through a real HTTP server: one event per request with
//! the reason and status each layer of a stack decided, never a secret,
//! token or signature; counters per tenant and authentication method. The
//! audit layer alone (sinks that never hold a request) is unit-tested next
//! to the code, in `src/audit/tests.rs`.

use crate::support;

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};
use support::unix_now;

use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode};
use tower_webhook::audit::{AuditEvent, AuditLayer, JsonLinesSink, Outcome};
use tower_webhook::idempotency::IdempotencyLayer;
use tower_webhook::ip::IpFilterLayer;
use tower_webhook::provider;
use tower_webhook::replay::ReplayLayer;
use tower_webhook::signature::{Key, Keyring, Outgoing, SignatureLayer, Signer};
use tower_webhook::token::{TokenLayer, TokenSet};
use tower_webhook::{Reason, Secret, WebhookStack};

const GITHUB_SECRET: &str = "github-current-secret-4f9a";
const RETIRED_SECRET: &str = "github-retired-secret-77c1";
const STANDARD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const TOKEN: &str = "glpat-audit-token-0a1b2c";
const LEGACY_TOKEN: &str = "legacy-static-token-9z8y";

type Events = Arc<Mutex<Vec<AuditEvent>>>;

/// Route, headers, body, the reason (or answer kind) expected (none:
/// accepted), the status.
type Case = (
    &'static str,
    Vec<(HeaderName, HeaderValue)>,
    Vec<u8>,
    Option<Stopped>,
    u16,
);

/// What stopped a request before the handler.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stopped {
    Refused(Reason),
    Answered(&'static str),
}

impl From<Reason> for Stopped {
    fn from(reason: Reason) -> Self {
        Stopped::Refused(reason)
    }
}

fn recording_audit(events: &Events) -> AuditLayer {
    let events = Arc::clone(events);
    AuditLayer::without_sinks().sink(move |event: &AuditEvent| {
        events.lock().unwrap().push(event.clone());
    })
}

fn handler() -> axum::routing::MethodRouter {
    post(|body: Bytes| async move { format!("{} bytes", body.len()) })
}

fn header(name: &'static str, value: &str) -> (HeaderName, HeaderValue) {
    (
        HeaderName::from_static(name),
        HeaderValue::from_str(value).unwrap(),
    )
}

/// One router, one audit layer, a route per layer under test.
async fn server(events: &Events) -> std::net::SocketAddr {
    let audit = recording_audit(events);
    let retired_until = UNIX_EPOCH + Duration::from_secs(1_000);
    let github_keys = Keyring::new()
        .with(Key::new("current", Secret::new(GITHUB_SECRET).unwrap()))
        .with(Key::new("retired", Secret::new(RETIRED_SECRET).unwrap()).valid_until(retired_until));
    let stack = |stack: WebhookStack| stack.audit(audit.clone()).build().unwrap();
    let loopback = || IpFilterLayer::new().allow("127.0.0.1, ::1").unwrap();

    let github = stack(
        WebhookStack::new()
            .ip_filter(loopback())
            .signature(SignatureLayer::new(provider::github::github(), github_keys).unwrap())
            .idempotency(IdempotencyLayer::new())
            .body_limit(4096),
    );
    let standard = stack(
        WebhookStack::new()
            .signature(SignatureLayer::standard_webhooks(
                Secret::from_whsec(STANDARD_SECRET).unwrap(),
            ))
            .replay(ReplayLayer::signed_timestamp())
            .idempotency(IdempotencyLayer::new()),
    );
    let token = stack(
        WebhookStack::new()
            .token(
                TokenLayer::header(HeaderName::from_static("x-gitlab-token"))
                    .accept("ci", Secret::new(TOKEN).unwrap()),
            )
            .replay(ReplayLayer::json_field("/created_at").seconds()),
    );
    let elsewhere =
        stack(WebhookStack::new().ip_filter(IpFilterLayer::new().allow("10.0.0.0/8").unwrap()));
    let unknown_peer = stack(WebhookStack::new().ip_filter(loopback().peer_ip_with(|_| None)));
    let broken_store = stack(
        WebhookStack::new()
            .token(
                TokenLayer::header(HeaderName::from_static("x-gitlab-token"))
                    .accept("ci", Secret::new(TOKEN).unwrap()),
            )
            .idempotency(
                IdempotencyLayer::from_unsigned_header(HeaderName::from_static("webhook-id"))
                    .store(support::BrokenStore),
            ),
    );
    let legacy_tokens = TokenSet::new().with("legacy", Secret::new(LEGACY_TOKEN).unwrap());
    let migrating = stack(
        WebhookStack::new().signature(
            SignatureLayer::github(Secret::new(GITHUB_SECRET).unwrap())
                .accept_legacy_token(HeaderName::from_static("x-legacy-token"), legacy_tokens),
        ),
    );
    let router = Router::new()
        .route("/github", handler().layer(github))
        .route("/standard", handler().layer(standard))
        .route("/token", handler().layer(token))
        .route("/elsewhere", handler().layer(elsewhere))
        .route("/unknown-peer", handler().layer(unknown_peer))
        .route("/broken-store", handler().layer(broken_store))
        .route("/migrating", handler().layer(migrating));
    support::serve(router).await
}

#[tokio::test]
async fn every_rejection_reason_gets_an_event_with_its_status_and_no_secret() {
    let events = Events::default();
    let addr = server(&events).await;
    let body = br#"{"action":"opened"}"#;
    let github = |body: &[u8], secret: &str, delivery: &str| {
        let mut headers = support::signed_headers("github", secret, body, 0, "");
        headers.push(header("x-github-delivery", delivery));
        headers
    };
    let now = unix_now();
    let standard_sig = support::signed_headers("standard", STANDARD_SECRET, body, now, "msg_ok");
    let stale = support::signed_headers("standard", STANDARD_SECRET, body, now - 3600, "msg_stale");
    let token = header("x-gitlab-token", TOKEN);
    let fresh_body = format!(r#"{{"created_at":{now}}}"#);

    let cases: Vec<Case> = vec![
        (
            "/github",
            github(body, GITHUB_SECRET, "d1"),
            body.to_vec(),
            None,
            200,
        ),
        (
            "/github",
            github(body, GITHUB_SECRET, "d1"),
            body.to_vec(),
            Some(Stopped::Answered("duplicate")),
            200,
        ),
        (
            "/github",
            vec![header("x-github-delivery", "d2")],
            body.to_vec(),
            Some(Reason::SignatureMissing.into()),
            401,
        ),
        (
            "/github",
            vec![header("x-hub-signature-256", "sha256=zz")],
            body.to_vec(),
            Some(Reason::SignatureMalformed.into()),
            401,
        ),
        (
            "/github",
            github(b"other", GITHUB_SECRET, "d3"),
            body.to_vec(),
            Some(Reason::SignatureMismatch.into()),
            401,
        ),
        (
            "/github",
            github(body, RETIRED_SECRET, "d4"),
            body.to_vec(),
            Some(Reason::KeyExpired.into()),
            401,
        ),
        (
            "/github",
            github(&[b'a'; 5000], GITHUB_SECRET, "d5"),
            vec![b'a'; 5000],
            Some(Reason::PayloadTooLarge.into()),
            413,
        ),
        ("/standard", standard_sig.clone(), body.to_vec(), None, 200),
        (
            "/standard",
            stale,
            body.to_vec(),
            Some(Reason::TimestampOutsideWindow.into()),
            401,
        ),
        (
            "/token",
            vec![],
            fresh_body.clone().into_bytes(),
            Some(Reason::TokenMissing.into()),
            401,
        ),
        (
            "/token",
            vec![header("x-gitlab-token", "not-the-token")],
            fresh_body.clone().into_bytes(),
            Some(Reason::TokenInvalid.into()),
            401,
        ),
        (
            "/token",
            vec![token.clone()],
            br#"{"other":1}"#.to_vec(),
            Some(Reason::PayloadIncomplete.into()),
            400,
        ),
        (
            "/token",
            vec![token.clone()],
            br#"{"created_at":"soon"}"#.to_vec(),
            Some(Reason::TimestampMalformed.into()),
            401,
        ),
        (
            "/token",
            vec![token.clone()],
            br#"{"created_at":1000000000}"#.to_vec(),
            Some(Reason::TimestampOutsideWindow.into()),
            401,
        ),
        (
            "/token",
            vec![token.clone()],
            fresh_body.clone().into_bytes(),
            None,
            200,
        ),
        (
            "/elsewhere",
            vec![],
            body.to_vec(),
            Some(Reason::IpNotAllowed.into()),
            403,
        ),
        (
            "/unknown-peer",
            vec![],
            body.to_vec(),
            Some(Reason::ClientIpUnknown.into()),
            403,
        ),
        (
            "/broken-store",
            vec![token.clone(), header("webhook-id", "m1")],
            body.to_vec(),
            Some(Reason::StoreUnavailable.into()),
            503,
        ),
        (
            "/migrating",
            vec![header("x-legacy-token", LEGACY_TOKEN)],
            body.to_vec(),
            None,
            200,
        ),
    ];
    for (index, (route, headers, body, reason, status)) in cases.iter().enumerate() {
        let reply = support::post_with(addr, route, headers, body).await;
        assert_eq!(
            reply.status.as_u16(),
            *status,
            "case {index} {route}: {}",
            reply.text()
        );
        let event = events.lock().unwrap().last().cloned().expect("an event");
        assert_eq!(
            events.lock().unwrap().len(),
            index + 1,
            "one event per request"
        );
        let (refused, answered) = match reason {
            Some(Stopped::Refused(reason)) => (Some(*reason), None),
            Some(Stopped::Answered(kind)) => (None, Some(*kind)),
            None => (None, None),
        };
        assert_eq!(event.reason, refused, "case {index} {route}");
        assert_eq!(event.answer, answered, "case {index} {route}");
        assert_eq!(event.status, *status, "case {index} {route}");
        assert_eq!(event.path, *route);
        assert_eq!(event.method, Some(http::Method::POST));
        let outcome = match reason {
            Some(Stopped::Answered(_)) => Outcome::Duplicate,
            Some(Stopped::Refused(_)) => Outcome::Rejected,
            None => Outcome::Accepted,
        };
        assert_eq!(event.outcome, outcome, "case {index} {route}");
        assert_eq!(event.event, outcome.event_name());
    }

    let events = events.lock().unwrap();
    // What the accepted events say about who sent them.
    let github_ok = &events[0];
    assert_eq!(github_ok.auth_method, Some("signature"));
    assert_eq!(github_ok.key_id.as_deref(), Some("current"));
    assert_eq!(github_ok.scheme.as_deref(), Some("github"));
    assert_eq!(github_ok.client_ip, Some("127.0.0.1".parse().unwrap()));
    // GitHub's delivery header is unsigned: the key is the digest of the
    // signed body, never the header.
    assert!(github_ok
        .idempotency_key
        .as_deref()
        .is_some_and(|k| k.starts_with("sha256:") && !k.contains("d1")));
    assert_eq!(events[14].auth_method, Some("token"));
    assert_eq!(events[14].key_id.as_deref(), Some("ci"));
    assert_eq!(events[18].auth_method, Some("token (legacy)"));
    for accepted in [&events[0], &events[14], &events[18]] {
        assert_eq!(accepted.auth_attempted, None);
    }
    // `/github` admits loopback by its allowlist, then asks for a
    // signature: a missing or forged one is no allowlist traffic.
    for refused in &events[2..=5] {
        assert_eq!(refused.auth_method, None, "{refused:?}");
        assert_eq!(refused.key_id, None, "{refused:?}");
        assert_eq!(refused.auth_attempted, Some("signature"), "{refused:?}");
    }
    for refused in &events[9..=10] {
        assert_eq!(refused.auth_method, None, "{refused:?}");
        assert_eq!(refused.auth_attempted, Some("token"), "{refused:?}");
    }

    // Nothing secret in any serialized event.
    let mut forbidden: Vec<String> = vec![
        GITHUB_SECRET.into(),
        RETIRED_SECRET.into(),
        STANDARD_SECRET.into(),
        STANDARD_SECRET.trim_start_matches("whsec_").into(),
        TOKEN.into(),
        LEGACY_TOKEN.into(),
        "not-the-token".into(),
    ];
    for (_, headers, ..) in &cases {
        for (name, value) in headers {
            if name.as_str().contains("signature") {
                let value = value.to_str().unwrap();
                forbidden.push(value.to_owned());
                // The bare MAC, without `sha256=` / `v1,` prefixes.
                forbidden.extend(
                    value
                        .split([',', '=', ' '])
                        .filter(|p| p.len() > 16)
                        .map(str::to_owned),
                );
            }
        }
    }
    for event in events.iter() {
        let json = event.to_json();
        for secret in &forbidden {
            assert!(!json.contains(secret.as_str()), "{json} contains {secret}");
        }
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert!(parsed["event"].as_str().unwrap().starts_with("webhook."));
    }
}

#[tokio::test]
async fn an_in_flight_duplicate_is_audited_as_such() {
    let events = Events::default();
    let release = Arc::new(tokio::sync::Notify::new());
    let entered = Arc::new(tokio::sync::Notify::new());
    let layer = WebhookStack::new()
        .insecure_no_authentication()
        .idempotency(IdempotencyLayer::from_unsigned_header(
            HeaderName::from_static("webhook-id"),
        ))
        .audit(recording_audit(&events))
        .build()
        .unwrap();
    let router = Router::new().route(
        "/slow",
        post({
            let (release, entered) = (Arc::clone(&release), Arc::clone(&entered));
            move || async move {
                entered.notify_one();
                release.notified().await;
                "done"
            }
        })
        .layer(layer),
    );
    let addr = support::serve(router).await;
    let id = [header("webhook-id", "m-slow")];
    let first = tokio::spawn(async move { support::post_with(addr, "/slow", &id, b"{}").await });
    entered.notified().await;
    let second = support::post_with(addr, "/slow", &[header("webhook-id", "m-slow")], b"{}").await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    release.notify_one();
    assert_eq!(first.await.unwrap().status, StatusCode::OK);
    let events = events.lock().unwrap();
    let reasons: Vec<_> = events.iter().map(|e| (e.reason, e.status)).collect();
    assert_eq!(reasons, [(Some(Reason::InFlight), 409), (None, 200)]);
    assert_eq!(events[1].idempotency_key, events[0].idempotency_key);
}

#[tokio::test]
async fn json_lines_are_written_one_per_event() {
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let out = Shared::default();
    let layer = WebhookStack::new()
        .token(TokenLayer::bearer().accept("ops", Secret::new(TOKEN).unwrap()))
        .audit(AuditLayer::without_sinks().sink(JsonLinesSink::new(out.clone()).unwrap()))
        .build()
        .unwrap();
    let addr = support::serve(Router::new().route("/hook", handler().layer(layer))).await;
    let bearer = [header("authorization", &format!("Bearer {TOKEN}"))];
    assert_eq!(
        support::post_with(addr, "/hook?token=x", &bearer, b"{}")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        support::post_with(addr, "/hook", &[], b"{}").await.status,
        StatusCode::UNAUTHORIZED
    );
    // The writer thread is asynchronous; wait for both lines (bounded).
    let mut text = String::new();
    for _ in 0..200 {
        text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        if text.lines().count() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0]["event"], "webhook.accepted");
    assert_eq!(lines[0]["auth_method"], "bearer");
    assert_eq!(lines[0]["path"], "/hook", "the query is never recorded");
    assert_eq!(lines[1]["event"], "webhook.rejected");
    assert_eq!(lines[1]["reason"], "token_missing");
    assert_eq!(lines[1]["status"], 401);
    assert!(!text.contains(TOKEN));
}

#[tokio::test]
async fn counters_show_each_tenants_migration_and_callbacks_fire() {
    let accepted = Arc::new(AtomicUsize::new(0));
    let rejected = Arc::new(Mutex::new(Vec::new()));
    let audit = AuditLayer::without_sinks()
        .on_accept({
            let accepted = Arc::clone(&accepted);
            move |_| {
                accepted.fetch_add(1, Ordering::SeqCst);
            }
        })
        .on_reject({
            let rejected = Arc::clone(&rejected);
            move |event| rejected.lock().unwrap().push(event.reason)
        });
    let counters = audit.clone();
    let legacy = TokenSet::new().with("legacy", Secret::new(LEGACY_TOKEN).unwrap());
    let layer = |tenant: &'static str| {
        let signature = SignatureLayer::github(Secret::new(GITHUB_SECRET).unwrap())
            .accept_legacy_token(HeaderName::from_static("x-legacy-token"), legacy.clone());
        tower::ServiceBuilder::new()
            .layer(audit.clone())
            .map_request(move |mut request: http::Request<axum::body::Body>| {
                tower_webhook::WebhookContext::of(&mut request).set_tenant(tenant);
                request
            })
            .layer(signature)
    };
    let router = Router::new()
        .route("/acme", handler().layer(layer("acme")))
        .route("/globex", handler().layer(layer("globex")));
    let addr = support::serve(router).await;
    let body = b"{}";
    let signed = support::signed_headers("github", GITHUB_SECRET, body, 0, "");
    let legacy_header = [header("x-legacy-token", LEGACY_TOKEN)];
    for _ in 0..3 {
        support::post_with(addr, "/acme", &signed, body).await;
    }
    support::post_with(addr, "/acme", &legacy_header, body).await;
    for _ in 0..2 {
        support::post_with(addr, "/globex", &legacy_header, body).await;
    }
    support::post_with(addr, "/globex", &[], body).await;

    let counts = counters.counts();
    assert_eq!((counts.accepted, counts.rejected), (6, 1));
    assert_eq!(counts.tenant_method("acme", "signature"), 3);
    assert_eq!(counts.tenant_method("acme", "token (legacy)"), 1);
    assert_eq!(counts.tenant_method("globex", "token (legacy)"), 2);
    assert_eq!(counts.tenant_method("globex", "signature"), 0);
    assert_eq!(counts.tenant_method("globex", "none"), 1);
    assert_eq!(counts.by_reason.get("signature_missing"), Some(&1));
    assert_eq!(accepted.load(Ordering::SeqCst), 6);
    assert_eq!(*rejected.lock().unwrap(), [Some(Reason::SignatureMissing)]);
}

#[test]
fn sensitive_headers_cover_the_credentials_of_every_preset() {
    let sensitive = tower_webhook::provider::sensitive_headers();
    let body = b"{}";
    // Each preset keyed as its provider shows the key: text, `whsec_`,
    // base64 or hex (with a second key of the same form).
    let forms = [
        ("a-provider-secret-0123456789", "another-secret-9876543210"),
        (
            STANDARD_SECRET,
            "whsec_dGhpcyBpcyBhbm90aGVyIHNlY3JldCBrZXkh",
        ),
        ("c2VjcmV0LWtleQ==", "b3RoZXIta2V5"),
        (
            "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056",
            "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF",
        ),
    ];
    let mut checked = 0;
    for name in tower_webhook::provider::SHARED_SECRET_SCHEMES {
        let Some((secret, other_secret)) = forms.into_iter().find(|(secret, other)| {
            Signer::preset(name, secret).is_ok() && Signer::preset(name, other).is_ok()
        }) else {
            continue;
        };
        let signer = Signer::preset(name, secret).unwrap();
        checked += 1;
        let headers = signer
            .sign(&Outgoing::new(body, 1_700_000_000, "msg_1").to_url("https://example.com/h"))
            .unwrap();
        // The header carrying the signature (or token) is the one whose
        // value changes with the secret.
        let other = Signer::preset(name, other_secret)
            .unwrap()
            .sign(&Outgoing::new(body, 1_700_000_000, "msg_1").to_url("https://example.com/h"))
            .unwrap();
        for ((header, value), (_, other_value)) in headers.iter().zip(other.iter()) {
            if value != other_value {
                assert!(
                    sensitive.contains(header),
                    "{name}: {header} carries a credential but is not marked sensitive"
                );
            }
        }
    }
    // Every shared-secret preset was keyed, none skipped for its key's form.
    assert_eq!(
        checked,
        tower_webhook::provider::SHARED_SECRET_SCHEMES.len()
    );
}

#[tokio::test]
async fn a_request_dropped_before_its_answer_still_gets_an_event() {
    use tower::{Layer, Service, ServiceExt};
    let events = Events::default();
    let mut service =
        recording_audit(&events).layer(tower::service_fn(|_: http::Request<String>| async {
            std::future::pending::<()>().await;
            Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
        }));
    let future = service.ready().await.unwrap().call(
        http::Request::post("/hook?token=secret")
            .body(String::new())
            .unwrap(),
    );
    // The client goes away: hyper drops the future.
    let timed_out = tokio::time::timeout(Duration::from_millis(20), future).await;
    assert!(timed_out.is_err());
    let events = events.lock().unwrap();
    assert_eq!(events.len(), 1);
    assert!(events[0].cancelled);
    assert!(!events[0].service_error);
    assert_eq!(events[0].status, 499, "nginx's client-closed-request");
    assert_eq!(events[0].path, "/hook");
    // No answer reached the sender, who will retry: not `webhook.accepted`.
    assert_eq!(events[0].outcome, Outcome::Rejected);
    assert_eq!(events[0].event, "webhook.rejected");
    assert_eq!(events[0].reason, Some(tower_webhook::Reason::Cancelled));
}

#[tokio::test]
async fn a_failing_inner_service_is_audited_as_a_rejected_service_error() {
    use axum::error_handling::HandleErrorLayer;
    use tower::ServiceBuilder;
    let events = Events::default();
    let audit = recording_audit(&events);
    let counters = audit.clone();
    let failing = tower::service_fn(|_: http::Request<axum::body::Body>| async {
        // An error quoting the request must not reach the audit trail.
        Err::<http::Response<axum::body::Body>, _>(std::io::Error::other(format!(
            "store down while handling token={TOKEN}"
        )))
    });
    let service = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(|_: std::io::Error| async {
            StatusCode::INTERNAL_SERVER_ERROR
        }))
        .layer(audit)
        .service(failing);
    let addr = support::serve(Router::new().route_service("/hook", service)).await;
    let reply = support::send(
        http::Request::post(format!("http://{addr}/hook?token={TOKEN}"))
            .body(http_body_util::Full::new(Bytes::from_static(b"{}")))
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);

    let events = events.lock().unwrap();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert!(event.service_error);
    assert!(!event.cancelled);
    assert_eq!(event.outcome, Outcome::Rejected);
    assert_eq!(event.event, "webhook.rejected");
    assert_eq!(event.reason, None);
    assert_eq!(event.status, 500);
    assert_eq!(event.path, "/hook");
    let json = event.to_json();
    assert!(!json.contains(TOKEN), "{json}");
    assert!(!json.contains("store down"), "{json}");

    let counts = counters.counts();
    assert_eq!((counts.accepted, counts.rejected), (0, 1));
    assert_eq!(counts.service_errors, 1);
    assert!(counts.by_reason.is_empty());
}

#[tokio::test]
async fn timestamp_missing_url_tokens_and_anonymous_senders_are_audited() {
    use tower::ServiceBuilder;
    const URL_TOKEN: &str = "url-token-in-the-query-5d6e7f";
    let events = Events::default();
    let audit = recording_audit(&events);
    let counters = audit.clone();
    let stamped = ServiceBuilder::new()
        .layer(audit.clone())
        .layer(
            TokenLayer::header(HeaderName::from_static("x-gitlab-token"))
                .accept("ci", Secret::new(TOKEN).unwrap()),
        )
        .layer(ReplayLayer::header("x-timestamp"));
    let url = ServiceBuilder::new()
        .layer(audit.clone())
        .layer(TokenLayer::query("token").accept("url", Secret::new(URL_TOKEN).unwrap()));
    let open = ServiceBuilder::new()
        .layer(audit.clone())
        .layer(TokenLayer::without_verification());
    let addr = support::serve(
        Router::new()
            .route("/stamped", handler().layer(stamped))
            .route("/url", handler().layer(url))
            .route("/open", handler().layer(open)),
    )
    .await;

    let reply =
        support::post_with(addr, "/stamped", &[header("x-gitlab-token", TOKEN)], b"{}").await;
    assert_eq!(reply.status, Reason::TimestampMissing.default_status());
    let reply = support::post_with(addr, &format!("/url?token={URL_TOKEN}&x=1"), &[], b"{}").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let reply = support::post_with(addr, "/url?token=wrong-url-token", &[], b"{}").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let reply = support::post_with(addr, "/open", &[], b"{}").await;
    assert_eq!(reply.status, StatusCode::OK);

    let events = events.lock().unwrap();
    let summary: Vec<_> = events
        .iter()
        .map(|e| (e.path.as_str(), e.reason, e.status, e.auth_method))
        .collect();
    assert_eq!(
        summary,
        [
            (
                "/stamped",
                Some(Reason::TimestampMissing),
                401,
                Some("token")
            ),
            ("/url", None, 200, Some("url_token")),
            ("/url", Some(Reason::TokenInvalid), 401, None),
            ("/open", None, 200, Some("anonymous")),
        ]
    );
    assert_eq!(events[1].key_id.as_deref(), Some("url"));
    for event in events.iter() {
        let json = event.to_json();
        assert!(!json.contains(URL_TOKEN), "{json}");
        assert!(!json.contains("wrong-url-token"), "{json}");
        assert!(!json.contains('?'), "the query stays out: {json}");
        assert!(!json.contains(TOKEN), "{json}");
    }
    let counts = counters.counts();
    assert_eq!(counts.tenant_method("", "url_token"), 1);
    assert_eq!(counts.tenant_method("", "anonymous"), 1);
    assert_eq!(counts.by_reason.get("timestamp_missing"), Some(&1));
}

#[tokio::test]
async fn the_sensitive_headers_layer_marks_every_credential_header() {
    use tower::{Layer, ServiceExt};
    use tower_webhook::provider::{sensitive_headers, sensitive_headers_layer_with};
    let service = sensitive_headers_layer_with([HeaderName::from_static("x-acme-token")]).layer(
        tower::service_fn(|request: http::Request<()>| async move {
            let marked: Vec<(String, bool)> = request
                .headers()
                .iter()
                .map(|(name, value)| (name.to_string(), value.is_sensitive()))
                .collect();
            Ok::<_, std::convert::Infallible>(http::Response::new(marked))
        }),
    );
    let mut request = http::Request::post("/hook");
    for name in sensitive_headers()
        .into_iter()
        .chain([HeaderName::from_static("x-acme-token")])
    {
        request = request.header(name, "credential");
    }
    let request = request
        .header("content-type", "application/json")
        .body(())
        .unwrap();
    let marked = service.oneshot(request).await.unwrap().into_body();
    assert_eq!(marked.len(), sensitive_headers().len() + 2);
    for (name, sensitive) in marked {
        assert_eq!(sensitive, name != "content-type", "{name}");
    }
}

#[tokio::test]
async fn the_default_sink_logs_structured_fields_through_tracing() {
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);
    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer({
            let captured = captured.clone();
            move || captured.clone()
        })
        .finish();
    // A current-thread runtime: the server's tasks run on this thread and
    // see this subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);
    let layer = AuditLayer::new().on_reject(|_: &AuditEvent| {});
    let token = TokenLayer::query("token").accept("url", Secret::new(TOKEN).unwrap());
    let service = tower::ServiceBuilder::new().layer(layer).layer(token);
    let addr = support::serve(Router::new().route("/hook", handler().layer(service))).await;
    let ok = support::post_with(addr, &format!("/hook?token={TOKEN}"), &[], b"{}").await;
    assert_eq!(ok.status, StatusCode::OK);
    let refused = support::post_with(addr, "/hook?token=guess", &[], b"{}").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("tower_webhook::audit"))
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].contains("INFO"), "{}", lines[0]);
    assert!(lines[0].contains("webhook.accepted"), "{}", lines[0]);
    assert!(lines[0].contains("url_token"), "{}", lines[0]);
    assert!(lines[1].contains("WARN"), "{}", lines[1]);
    assert!(lines[1].contains("webhook.rejected"), "{}", lines[1]);
    assert!(lines[1].contains("token_invalid"), "{}", lines[1]);
    assert!(!text.contains(TOKEN), "{text}");
    assert!(!text.contains("guess"), "{text}");
}

#[tokio::test]
async fn a_credential_refused_on_an_allowlisted_route_is_not_counted_as_the_allowlist() {
    let events = Events::default();
    let audit = recording_audit(&events);
    let counters = audit.clone();
    let loopback = || IpFilterLayer::new().allow("127.0.0.1, ::1").unwrap();
    let signed = WebhookStack::new()
        .ip_filter(loopback())
        .signature(SignatureLayer::github(Secret::new(GITHUB_SECRET).unwrap()))
        .audit(audit.clone())
        .build()
        .unwrap();
    let allowlist_only = WebhookStack::new()
        .ip_filter(loopback())
        .audit(audit)
        .build()
        .unwrap();
    let router = Router::new()
        .route("/signed", handler().layer(signed))
        .route("/allowlisted", handler().layer(allowlist_only));
    let addr = support::serve(router).await;
    let body = br#"{"action":"opened"}"#;

    let forged = support::signed_headers("github", "a-guessed-secret", body, 0, "");
    let reply = support::post_with(addr, "/signed", &forged, body).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let reply = support::post_with(addr, "/signed", &[], body).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let genuine = support::signed_headers("github", GITHUB_SECRET, body, 0, "");
    let reply = support::post_with(addr, "/signed", &genuine, body).await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = support::post_with(addr, "/allowlisted", &[], body).await;
    assert_eq!(reply.status, StatusCode::OK);

    let events = events.lock().unwrap();
    let seen: Vec<_> = events
        .iter()
        .map(|e| (e.reason, e.auth_method, e.auth_attempted))
        .collect();
    assert_eq!(
        seen,
        [
            (Some(Reason::SignatureMismatch), None, Some("signature")),
            (Some(Reason::SignatureMissing), None, Some("signature")),
            (None, Some("signature"), None),
            (None, Some("ip_allowlist"), None),
        ]
    );
    let json: serde_json::Value = serde_json::from_str(&events[0].to_json()).unwrap();
    assert_eq!(json["auth_method"], serde_json::Value::Null);
    assert_eq!(json["auth_attempted"], "signature");

    let counts = counters.counts();
    assert_eq!(counts.tenant_method("", "ip_allowlist"), 1, "{counts:?}");
    assert_eq!(counts.tenant_method("", "none"), 2, "{counts:?}");
    assert_eq!(counts.tenant_method("", "signature"), 1, "{counts:?}");
}

#[test]
fn the_audit_service_hands_back_its_inner_service() {
    use tower::Layer;

    #[derive(Debug)]
    struct Inner(u8);

    let mut audited = AuditLayer::new().layer(Inner(1));
    assert_eq!(audited.get_ref().0, 1);
    audited.get_mut().0 = 2;
    assert_eq!(audited.into_inner().0, 2);
}
