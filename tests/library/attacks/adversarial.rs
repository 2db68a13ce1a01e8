//! The attacker's view of the whole stack.
//!
//! * A differential table: the same scenarios through `WebhookStack` and
//!   through the same layers stacked by hand (in the recommended order, and
//!   with the header replay check on either side of the signature) get the
//!   same status and the same audit reason.
//! * A seeded fuzz of the full stack: captured deliveries (fresh, stale,
//!   forged) mutated the way an attacker would (new unsigned headers,
//!   repeated headers, re-encoded paths, spliced timestamps, flipped bytes,
//!   foreign addresses), sent through every composition. It asserts: no
//!   panic; only documented statuses; the handler only sees a delivery id,
//!   timestamp and body that the key signed, fresh, from an allowed
//!   address; at most one run per signed delivery; every composition gives
//!   the same verdict. Bounded for CI; `ADVERSARIAL_ITERATIONS=300000`
//!   (and `ADVERSARIAL_SEED`) for a long run.
//! * Every preset under the same mutations: no panic, no tampered request
//!   accepted.

use crate::support;

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use support::unix_now;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config as ProptestConfig, RngAlgorithm, TestRng, TestRunner};
use tower::util::BoxCloneService;
use tower::{ServiceBuilder, ServiceExt};
use tower_webhook::audit::{AuditEvent, AuditLayer};
use tower_webhook::body::BufferedBody;
use tower_webhook::idempotency::IdempotencyLayer;
use tower_webhook::ip::IpFilterLayer;
use tower_webhook::provider;
use tower_webhook::replay::ReplayLayer;
use tower_webhook::signature::{Outgoing, SignatureLayer, Signer};
use tower_webhook::{Answer, Reason, Secret, WebhookContext, WebhookStack};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const WRONG_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const SENT_AT: &str = "x-sent-at";
const BODY_LIMIT: usize = 4096;

/// What the handler saw of one run: the signed id, signed timestamp and
/// body.
type Run = (String, String, Bytes);

/// Where the timestamp the replay window checks comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Window {
    /// An unsigned header the sender adds (`x-sent-at`).
    Header,
    /// The timestamp the signature covers.
    Signed,
}

/// How the same layers are put together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Composition {
    Stack,
    /// Audit, IP, replay, signature, idempotency: a header window is
    /// checked before the body is read.
    ByHandReplayOutside,
    /// Audit, IP, signature, replay, idempotency.
    ByHandReplayInside,
    /// A `WebhookPolicy` naming the provider (its bundle: window, body cap,
    /// idempotency), with the allowlist and audit added in code.
    Policy,
    /// A `TenantLayer` whose tenant `acme` resolves to the same checks, an
    /// idempotency layer inside it: a tenant's allowlist answers 401 where
    /// the stack's answers 403 (so strangers cannot tell tenants apart).
    Tenant,
}

/// How closely a composition must agree with the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Agreement {
    /// The same status and reason.
    Exact,
    /// The same status.
    Status,
    /// The same reason, and the same status once a 403 is read as the
    /// tenant layer's uniform 401.
    AsTenant,
}

impl Composition {
    /// The compositions to compare, each with whether it must give the very
    /// same verdict as the stack (status and reason) or only the same
    /// status. The stack and the recommended hand order (a header window
    /// outside the signature, a signed one inside) must agree on both; with
    /// the header window inside the signature the checks run in another
    /// order, so when two checks fail the first reason differs, but the
    /// status (and whether the handler runs) may not.
    fn all(window: Window) -> &'static [(Composition, Agreement)] {
        match window {
            Window::Header => &[
                (Composition::Stack, Agreement::Exact),
                (Composition::ByHandReplayOutside, Agreement::Exact),
                (Composition::ByHandReplayInside, Agreement::Status),
            ],
            // A signed timestamp is only known inside the signature layer:
            // that is the recommended (and only meaningful) place. The
            // provider's own window is a signed one: policies and tenants
            // built from the provider join here.
            Window::Signed => &[
                (Composition::Stack, Agreement::Exact),
                (Composition::ByHandReplayInside, Agreement::Exact),
                (Composition::Policy, Agreement::Exact),
                (Composition::Tenant, Agreement::AsTenant),
            ],
        }
    }
}

/// The status, and the reason of a refusal or the kind of an answer.
type Verdict = (StatusCode, Option<&'static str>);
type Service = BoxCloneService<Request<Full<Bytes>>, Verdict, Infallible>;

/// One composition with its own store, audit record and run log.
struct Receiver {
    service: Service,
    runs: Arc<Mutex<Vec<Run>>>,
    audited: Arc<Mutex<Vec<Option<&'static str>>>>,
}

/// What the audit event says stopped the request, if anything did.
fn named(event: &AuditEvent) -> Option<&'static str> {
    event.reason.map(|reason| reason.as_str()).or(event.answer)
}

fn verdict<B>(response: Response<B>) -> Verdict {
    (
        response.status(),
        response
            .extensions()
            .get::<Reason>()
            .map(|reason| reason.as_str())
            .or(Answer::of(&response).map(Answer::kind)),
    )
}

/// `service` answering with its verdict, boxed so every composition has
/// one type.
fn boxed<S, B: 'static>(service: S) -> Service
where
    S: tower::Service<Request<Full<Bytes>>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    BoxCloneService::new(ServiceExt::<Request<Full<Bytes>>>::map_response(
        service, verdict,
    ))
}

/// `service` behind an axum router on `/hooks/{tenant}`, as a receiver
/// serves it: the idempotency scope is the route, not the spelling of the
/// path.
fn routed<S, B>(service: S) -> Service
where
    S: tower::Service<Request<axum::body::Body>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    boxed(axum::Router::new().route("/hooks/{tenant}", axum::routing::post_service(service)))
}

fn peer(parts: &http::request::Parts) -> Option<IpAddr> {
    parts
        .headers
        .get("x-test-peer")?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

impl Receiver {
    fn new(composition: Composition, window: Window) -> Self {
        let runs: Arc<Mutex<Vec<Run>>> = Arc::default();
        let audited: Arc<Mutex<Vec<Option<&'static str>>>> = Arc::default();
        let record = Arc::clone(&audited);
        let audit = AuditLayer::new().on_accept({
            let record = Arc::clone(&record);
            move |event: &AuditEvent| record.lock().unwrap().push(named(event))
        });
        let audit = audit
            .on_duplicate({
                let record = Arc::clone(&record);
                move |event: &AuditEvent| record.lock().unwrap().push(named(event))
            })
            .on_reject(move |event: &AuditEvent| record.lock().unwrap().push(named(event)));
        let ip = IpFilterLayer::new()
            .allow("127.0.0.1, ::1")
            .unwrap()
            .peer_ip_with(peer);
        let signature = SignatureLayer::standard_webhooks(Secret::from_whsec(SECRET).unwrap())
            .body_limit(BODY_LIMIT);
        let replay = match window {
            Window::Header => ReplayLayer::header(SENT_AT).seconds(),
            Window::Signed => ReplayLayer::signed_timestamp(),
        }
        .body_limit(BODY_LIMIT);
        let idempotency = IdempotencyLayer::new().body_limit(BODY_LIMIT);
        let logged = Arc::clone(&runs);
        let handler = tower::service_fn(move |request: Request<BufferedBody>| {
            let logged = Arc::clone(&logged);
            async move {
                let signed = WebhookContext::get(request.extensions())
                    .and_then(|context| context.snapshot().signed);
                let body = request.into_body().collect().await.unwrap().to_bytes();
                let text = |bytes: Option<&[u8]>| {
                    String::from_utf8_lossy(bytes.unwrap_or(b"-")).into_owned()
                };
                logged.lock().unwrap().push((
                    text(signed.as_ref().and_then(|s| s.id())),
                    text(signed.as_ref().and_then(|s| s.timestamp_text())),
                    body,
                ));
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
            }
        });
        let service = match composition {
            Composition::Stack => {
                let stack = WebhookStack::new()
                    .ip_filter(ip)
                    .signature(signature)
                    .replay(replay)
                    .idempotency(idempotency)
                    .audit(audit)
                    .build()
                    .unwrap();
                routed(ServiceBuilder::new().layer(stack).service(handler))
            }
            Composition::ByHandReplayOutside => routed(
                ServiceBuilder::new()
                    .layer(audit)
                    .layer(ip)
                    .layer(replay)
                    .layer(signature)
                    .layer(idempotency)
                    .service(handler),
            ),
            Composition::ByHandReplayInside => routed(
                ServiceBuilder::new()
                    .layer(audit)
                    .layer(ip)
                    .layer(signature)
                    .layer(replay)
                    .layer(idempotency)
                    .service(handler),
            ),
            Composition::Policy => {
                let policy: tower_webhook::policy::WebhookPolicy =
                    serde_json::from_value(serde_json::json!({
                        "provider": "standard",
                        "require_signature": true,
                        "signing_secret": SECRET,
                        "body_limit": BODY_LIMIT,
                    }))
                    .unwrap();
                let stack = policy
                    .stack()
                    .unwrap()
                    .ip_filter(ip)
                    .audit(audit)
                    .build()
                    .unwrap();
                routed(ServiceBuilder::new().layer(stack).service(handler))
            }
            Composition::Tenant => {
                let acme = WebhookStack::new()
                    .ip_filter(ip)
                    .signature(signature)
                    .replay(replay)
                    .into_tenant_policy()
                    .unwrap();
                let tenants = tower_webhook::tenant::StaticTenants::new().with_policy("acme", acme);
                let layer = tower_webhook::tenant::TenantLayer::new(
                    tower_webhook::tenant::TenantKey::PathAfter("/hooks".into()),
                    tenants,
                )
                .body_limit(BODY_LIMIT);
                routed(
                    ServiceBuilder::new()
                        .layer(audit)
                        .layer(layer)
                        .layer(idempotency)
                        .service(handler),
                )
            }
        };
        Self {
            service,
            runs,
            audited,
        }
    }

    async fn send(&self, request: &Attempt) -> Verdict {
        let verdict = self.service.clone().oneshot(request.build()).await.unwrap();
        let audited = self.audited.lock().unwrap().pop();
        // The audit trail says what the response says.
        assert_eq!(
            audited,
            Some(verdict.1),
            "audit vs response for {request:?}"
        );
        verdict
    }
}

/// A request as the attacker sends it.
#[derive(Debug, Clone)]
struct Attempt {
    path: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

impl Attempt {
    /// `body` signed with `secret` at `timestamp` as delivery `id`, from
    /// `127.0.0.1`, with a matching `x-sent-at`.
    fn signed(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Self {
        let mut headers: Vec<_> = Signer::preset("standard", secret)
            .unwrap()
            .sign(&Outgoing::new(body, timestamp, id))
            .unwrap()
            .into_iter()
            .collect();
        headers.push(header(SENT_AT, &timestamp.to_string()));
        headers.push(header("x-test-peer", "127.0.0.1"));
        Self {
            path: "/hooks/acme".into(),
            headers,
            body: Bytes::copy_from_slice(body),
        }
    }

    fn with(mut self, name: &'static str, value: &str) -> Self {
        self.headers.retain(|(n, _)| n != name);
        self.headers.push(header(name, value));
        self
    }

    fn also(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push(header(name, value));
        self
    }

    fn build(&self) -> Request<Full<Bytes>> {
        let mut request = Request::post(self.path.as_str())
            .body(Full::new(self.body.clone()))
            .unwrap();
        for (name, value) in &self.headers {
            request.headers_mut().append(name.clone(), value.clone());
        }
        request
    }
}

fn header(name: &'static str, value: &str) -> (HeaderName, HeaderValue) {
    (
        HeaderName::from_static(name),
        HeaderValue::from_str(value).unwrap(),
    )
}

/// Run `steps` through every composition; every step must get the same
/// verdict everywhere. Returns the verdicts.
async fn differential(window: Window, steps: &[(&str, Attempt)]) -> Vec<Verdict> {
    let receivers = receivers(window);
    let mut verdicts = Vec::new();
    for (name, attempt) in steps {
        verdicts.push(agreed(&receivers, attempt, name).await);
    }
    verdicts
}

fn receivers(window: Window) -> Vec<(Composition, Agreement, Receiver)> {
    Composition::all(window)
        .iter()
        .map(|&(composition, agreement)| {
            (composition, agreement, Receiver::new(composition, window))
        })
        .collect()
}

/// Send `attempt` through every composition; they must agree. Returns the
/// stack's verdict.
async fn agreed(
    receivers: &[(Composition, Agreement, Receiver)],
    attempt: &Attempt,
    what: &str,
) -> Verdict {
    let mut seen = Vec::new();
    for (composition, agreement, receiver) in receivers {
        let verdict = receiver.send(attempt).await;
        assert!(
            DOCUMENTED.contains(&verdict.0.as_u16()),
            "{composition:?}: undocumented {verdict:?} for {what}: {attempt:?}"
        );
        seen.push((*composition, *agreement, verdict));
    }
    let stack = seen[0].2;
    for (composition, agreement, verdict) in &seen {
        let expected = match agreement {
            Agreement::Exact => stack,
            Agreement::Status => (stack.0, verdict.1),
            // A path naming another tenant once decoded (`a%63me` from a
            // double encoding) is an unknown tenant: the route is not.
            Agreement::AsTenant if !names_acme(&attempt.path) => (
                StatusCode::UNAUTHORIZED,
                Some(Reason::TenantUnknown.as_str()),
            ),
            Agreement::AsTenant if stack.0 == StatusCode::FORBIDDEN => {
                (StatusCode::UNAUTHORIZED, stack.1)
            }
            Agreement::AsTenant => stack,
        };
        assert_eq!(
            *verdict, expected,
            "{composition:?} vs stack on {what}: {attempt:?}"
        );
    }
    stack
}

/// Whether `path`, decoded once as the tenant layer reads it, names `acme`.
fn names_acme(path: &str) -> bool {
    percent_encoding::percent_decode_str(path).decode_utf8_lossy() == "/hooks/acme"
}

fn scenarios() -> Vec<(&'static str, Attempt, Verdict)> {
    let now = unix_now();
    let body = br#"{"type":"invoice.paid"}"#;
    let fresh = Attempt::signed(SECRET, "msg_1", now, body);
    let ok = (StatusCode::OK, None);
    let unauthorized = |reason: Reason| (StatusCode::UNAUTHORIZED, Some(reason.as_str()));
    vec![
        ("fresh delivery", fresh.clone(), ok),
        (
            "the same bytes again",
            fresh.clone(),
            (StatusCode::OK, Some("duplicate")),
        ),
        (
            "the same bytes under a new Idempotency-Key",
            fresh.clone().also("idempotency-key", "new-1"),
            (StatusCode::OK, Some("duplicate")),
        ),
        (
            "the same bytes on a re-encoded path",
            Attempt {
                path: "/hooks/%61cme".into(),
                ..fresh.clone()
            },
            (StatusCode::OK, Some("duplicate")),
        ),
        (
            "an hour-old signed delivery with a fresh unsigned header",
            Attempt::signed(SECRET, "msg_old", now - 3600, body).with(SENT_AT, &now.to_string()),
            unauthorized(Reason::TimestampOutsideWindow),
        ),
        (
            "a fresh signed delivery with a stale unsigned header",
            Attempt::signed(SECRET, "msg_2", now, body).with(SENT_AT, &(now - 3600).to_string()),
            unauthorized(Reason::TimestampOutsideWindow),
        ),
        (
            "forged body",
            Attempt {
                body: Bytes::from_static(br#"{"type":"invoice.refunded"}"#),
                ..Attempt::signed(SECRET, "msg_3", now, body)
            },
            unauthorized(Reason::SignatureMismatch),
        ),
        (
            "wrong key",
            Attempt::signed(WRONG_SECRET, "msg_4", now, body),
            unauthorized(Reason::SignatureMismatch),
        ),
        (
            "a foreign address",
            Attempt::signed(SECRET, "msg_5", now, body).with("x-test-peer", "203.0.113.9"),
            (StatusCode::FORBIDDEN, Some(Reason::IpNotAllowed.as_str())),
        ),
        (
            "two different delivery ids",
            Attempt::signed(SECRET, "msg_6", now, body).also("webhook-id", "msg_7"),
            unauthorized(Reason::SignatureMalformed),
        ),
        (
            "an identical repeated delivery id",
            Attempt::signed(SECRET, "msg_8", now, body).also("webhook-id", "msg_8"),
            ok,
        ),
        (
            "a body over the limit",
            Attempt::signed(SECRET, "msg_9", now, &vec![b'x'; BODY_LIMIT + 1]),
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                Some(Reason::PayloadTooLarge.as_str()),
            ),
        ),
        (
            "a timestamp with a leading zero spliced in",
            {
                let mut attempt = Attempt::signed(SECRET, "msg_10", now, body);
                let spliced = format!("0{now}");
                attempt = attempt
                    .with("webhook-timestamp", &spliced)
                    .with(SENT_AT, &spliced);
                attempt
            },
            unauthorized(Reason::TimestampMalformed),
        ),
    ]
}

#[tokio::test]
async fn every_composition_gives_the_same_verdict() {
    for window in [Window::Header, Window::Signed] {
        let table = scenarios();
        let steps: Vec<_> = table
            .iter()
            .map(|(name, attempt, _)| (*name, attempt.clone()))
            .collect();
        let verdicts = differential(window, &steps).await;
        for ((name, _, expected), verdict) in table.iter().zip(verdicts) {
            // The header scenarios only differ from the signed ones where
            // the unsigned header is what is wrong.
            let expected = match (window, *name) {
                (Window::Signed, "a fresh signed delivery with a stale unsigned header") => {
                    (StatusCode::OK, None)
                }
                _ => *expected,
            };
            assert_eq!(verdict, expected, "{name} ({window:?} window)");
        }
    }
}

/// The attacker's moves on a captured request.
#[derive(Debug, Clone)]
enum Mutation {
    NewIdempotencyKey(u16),
    NewSentAt(i64),
    RepeatHeader(usize),
    RepeatHeaderWith(usize, u8),
    ReEncodePath(u8),
    LeadingZeroTimestamp,
    FlipBodyByte(usize, u8),
    DropHeader(usize),
    ForeignPeer(u8),
    GarbageForwardedFor(Vec<u8>),
    NonUtf8Header(Vec<u8>),
    OtherId(u16),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<u16>().prop_map(Mutation::NewIdempotencyKey),
        (-7200i64..7200).prop_map(Mutation::NewSentAt),
        (0usize..8).prop_map(Mutation::RepeatHeader),
        ((0usize..8), any::<u8>()).prop_map(|(i, b)| Mutation::RepeatHeaderWith(i, b)),
        any::<u8>().prop_map(Mutation::ReEncodePath),
        Just(Mutation::LeadingZeroTimestamp),
        ((0usize..64), 1u8..=255).prop_map(|(i, b)| Mutation::FlipBodyByte(i, b)),
        (0usize..8).prop_map(Mutation::DropHeader),
        any::<u8>().prop_map(Mutation::ForeignPeer),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Mutation::GarbageForwardedFor),
        proptest::collection::vec(128u8..=255, 1..8).prop_map(Mutation::NonUtf8Header),
        any::<u16>().prop_map(Mutation::OtherId),
    ]
}

fn apply(mut attempt: Attempt, mutation: &Mutation) -> Attempt {
    let pick = |attempt: &Attempt, i: usize| {
        attempt
            .headers
            .get(i % attempt.headers.len().max(1))
            .cloned()
    };
    match mutation {
        Mutation::NewIdempotencyKey(n) => attempt.also("idempotency-key", &format!("k{n}")),
        Mutation::NewSentAt(offset) => attempt.with(SENT_AT, &(unix_now() + offset).to_string()),
        Mutation::RepeatHeader(i) => {
            if let Some(copy) = pick(&attempt, *i) {
                attempt.headers.push(copy);
            }
            attempt
        }
        Mutation::RepeatHeaderWith(i, byte) => {
            if let Some((name, value)) = pick(&attempt, *i) {
                let mut changed = value.as_bytes().to_vec();
                changed.push(b'a' + byte % 26);
                attempt
                    .headers
                    .push((name, HeaderValue::from_bytes(&changed).unwrap()));
            }
            attempt
        }
        Mutation::ReEncodePath(at) => {
            let path = attempt.path.clone();
            // Within the route parameter: the router answers other paths.
            let prefix = "/hooks/".len();
            let at = prefix + usize::from(*at) % (path.len() - prefix);
            if path.as_bytes()[at].is_ascii_alphanumeric() {
                attempt.path = format!(
                    "{}%{:02X}{}",
                    &path[..at],
                    path.as_bytes()[at],
                    &path[at + 1..]
                );
            }
            attempt
        }
        Mutation::LeadingZeroTimestamp => {
            let spliced = attempt
                .headers
                .iter()
                .find(|(name, _)| name == "webhook-timestamp")
                .map(|(_, value)| format!("0{}", value.to_str().unwrap()));
            match spliced {
                Some(spliced) => attempt.with("webhook-timestamp", &spliced),
                None => attempt,
            }
        }
        Mutation::FlipBodyByte(i, byte) => {
            let mut body = attempt.body.to_vec();
            if !body.is_empty() {
                let at = i % body.len();
                body[at] ^= byte;
            }
            attempt.body = body.into();
            attempt
        }
        Mutation::DropHeader(i) => {
            if !attempt.headers.is_empty() {
                let at = i % attempt.headers.len();
                attempt.headers.remove(at);
            }
            attempt
        }
        Mutation::ForeignPeer(n) => attempt.with("x-test-peer", &format!("198.51.100.{n}")),
        Mutation::GarbageForwardedFor(bytes) => {
            if let Ok(value) = HeaderValue::from_bytes(bytes) {
                attempt
                    .headers
                    .push((HeaderName::from_static("x-forwarded-for"), value));
            }
            attempt
        }
        Mutation::NonUtf8Header(bytes) => {
            let name = if bytes[0] % 2 == 0 {
                "webhook-id"
            } else {
                "idempotency-key"
            };
            attempt.headers.push((
                HeaderName::from_static(name),
                HeaderValue::from_bytes(bytes).unwrap(),
            ));
            attempt
        }
        Mutation::OtherId(n) => attempt.with("webhook-id", &format!("msg_other_{n}")),
    }
}

/// The deliveries the attacker captured: genuine fresh ones, genuine stale
/// ones, and forgeries under a wrong key.
#[derive(Debug, Clone)]
struct Capture {
    attempt: Attempt,
    signed_run: Option<Run>,
}

fn captures() -> Vec<Capture> {
    let now = unix_now();
    let mut captures = Vec::new();
    for n in 0..6 {
        let body = format!(r#"{{"type":"invoice.paid","n":{n}}}"#);
        let id = format!("msg_{n}");
        captures.push(Capture {
            attempt: Attempt::signed(SECRET, &id, now, body.as_bytes()),
            signed_run: Some((id.clone(), now.to_string(), Bytes::from(body.clone()))),
        });
        captures.push(Capture {
            attempt: Attempt::signed(SECRET, &format!("old_{n}"), now - 3600, body.as_bytes()),
            signed_run: None,
        });
        captures.push(Capture {
            attempt: Attempt::signed(WRONG_SECRET, &format!("forged_{n}"), now, body.as_bytes()),
            signed_run: None,
        });
    }
    captures
}

const DOCUMENTED: [u16; 7] = [200, 400, 401, 403, 409, 413, 503];

fn iterations() -> u32 {
    std::env::var("ADVERSARIAL_ITERATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000)
}

fn seed() -> [u8; 32] {
    let seed: u64 = std::env::var("ADVERSARIAL_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0x005E_ED0F_F00D);
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes
}

#[tokio::test]
async fn seeded_fuzz_of_the_full_stack() {
    let captures = captures();
    let genuine: HashSet<Run> = captures
        .iter()
        .filter_map(|c| c.signed_run.clone())
        .collect();
    let mut runner = TestRunner::new_with_rng(
        ProptestConfig::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed()),
    );
    let plan = (
        0..captures.len(),
        proptest::collection::vec(mutation(), 0..4),
    );
    for window in [Window::Header, Window::Signed] {
        let receivers = receivers(window);
        for _ in 0..iterations() {
            let (which, mutations) = plan.new_tree(&mut runner).unwrap().current();
            let attempt = mutations
                .iter()
                .fold(captures[which].attempt.clone(), apply);
            agreed(&receivers, &attempt, &format!("{mutations:?}")).await;
        }
        for (composition, _, receiver) in &receivers {
            let runs = receiver.runs.lock().unwrap();
            let mut per_delivery: HashMap<&Run, usize> = HashMap::new();
            for run in runs.iter() {
                assert!(
                    genuine.contains(run),
                    "{composition:?} ran the handler on unsigned data: {run:?}"
                );
                *per_delivery.entry(run).or_default() += 1;
            }
            for (run, count) in per_delivery {
                assert_eq!(count, 1, "{composition:?} ran {run:?} {count} times");
            }
        }
    }
}

/// A secret in the form `name`'s provider shows it: text, base64,
/// `whsec_` or hex (Adyen).
fn preset_secret(name: &str) -> &'static str {
    [
        "preset-secret-0123456789abcdef",
        "cHJlc2V0LXNlY3JldC0wMTIzNDU2Nzg5YWJjZGVm",
        SECRET,
        "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056",
    ]
    .into_iter()
    .find(|secret| SignatureLayer::preset(name, secret).is_ok())
    .unwrap_or_else(|| panic!("no secret form fits {name}"))
}

#[tokio::test]
async fn every_preset_refuses_tampering_and_never_panics() {
    let mut runner = TestRunner::new_with_rng(
        ProptestConfig::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed()),
    );
    let per_preset = (iterations() / 10).max(100);
    for name in tower_webhook::provider::SHARED_SECRET_SCHEMES {
        let secret = preset_secret(name);
        let layer = SignatureLayer::preset(name, secret).unwrap();
        let service =
            ServiceBuilder::new()
                .layer(layer)
                .service_fn(|_: Request<BufferedBody>| async {
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
                });
        let body = br#"{"event":"created","id":"evt_1"}"#;
        let url = "https://hooks.example.com/hooks/acme?x=1";
        let signed: Vec<_> = Signer::preset(name, secret)
            .unwrap()
            .sign(&Outgoing::new(body, unix_now(), "msg_1").to_url(url))
            .unwrap()
            .into_iter()
            .collect();
        let genuine = Attempt {
            path: "/hooks/acme?x=1".into(),
            headers: signed
                .into_iter()
                .chain([
                    header("host", "hooks.example.com"),
                    header("content-type", "application/json"),
                ])
                .collect(),
            body: Bytes::from_static(body),
        };
        let status_of = |attempt: &Attempt| {
            let service = service.clone();
            let request = attempt.build();
            async move {
                let response = service.oneshot(request).await.unwrap();
                response.status()
            }
        };
        assert_eq!(status_of(&genuine).await, StatusCode::OK, "{name}: genuine");
        let strategy = proptest::collection::vec(mutation(), 1..4);
        for _ in 0..per_preset {
            let mutations = strategy.new_tree(&mut runner).unwrap().current();
            let attempt = mutations.iter().fold(genuine.clone(), apply);
            let status = status_of(&attempt).await;
            assert!(
                DOCUMENTED.contains(&status.as_u16()),
                "{name}: undocumented {status} for {mutations:?}"
            );
            let tampered = attempt.body != genuine.body;
            if tampered {
                assert_ne!(status, StatusCode::OK, "{name}: accepted {mutations:?}");
            }
        }
    }
}

/// The attacks particular to two providers, on top of the generic moves.
#[derive(Debug, Clone)]
enum ProviderMutation {
    Generic(Mutation),
    /// Twilio: parameter `i` absorbs the name and value of the next one
    /// (the flat concatenation Twilio signs is unchanged).
    MoveTwilioBoundary(usize),
    /// Twilio: the parameters in another order.
    ReverseTwilioParams,
    /// HubSpot v1/v2: a SHA-256 length extension of the captured signature.
    LengthExtend(Vec<u8>),
}

fn provider_mutation() -> impl Strategy<Value = ProviderMutation> {
    prop_oneof![
        mutation().prop_map(ProviderMutation::Generic),
        (0usize..4).prop_map(ProviderMutation::MoveTwilioBoundary),
        Just(ProviderMutation::ReverseTwilioParams),
        proptest::collection::vec(any::<u8>(), 0..24).prop_map(ProviderMutation::LengthExtend),
    ]
}

const HUBSPOT_SECRET: &str = "8c1f2a9e-3b47-4d5a-9e21-0f6b7c8d9e0a";
const PROVIDER_URL: &str = "https://hooks.example.com/hooks/acme?x=1";

/// Twilio's signed form: the decoded parameters, sorted, flat.
fn twilio_flat(form: &[u8]) -> Vec<u8> {
    provider::twilio::sorted_params(form)
        .iter()
        .flat_map(|(n, v)| [n.as_bytes(), v.as_bytes()].concat())
        .collect()
}

fn apply_provider(scheme: &str, attempt: Attempt, mutation: &ProviderMutation) -> Attempt {
    let mut attempt = attempt;
    match mutation {
        ProviderMutation::Generic(generic) => apply(attempt, generic),
        ProviderMutation::MoveTwilioBoundary(i) => {
            let mut params: Vec<(String, String)> = provider::twilio::sorted_params(&attempt.body)
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            if params.len() > 1 {
                let at = i % (params.len() - 1);
                let (name, value) = params.remove(at + 1);
                params[at].1.push_str(&name);
                params[at].1.push_str(&value);
                let form = form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(params)
                    .finish();
                attempt.body = Bytes::from(form);
            }
            attempt
        }
        ProviderMutation::ReverseTwilioParams => {
            let mut pieces: Vec<&[u8]> = attempt.body.split(|&b| b == b'&').collect();
            pieces.reverse();
            attempt.body = Bytes::from(pieces.join(&b'&'));
            attempt
        }
        ProviderMutation::LengthExtend(suffix) => {
            let signature = attempt
                .headers
                .iter()
                .find(|(name, _)| name == "x-hubspot-signature")
                .and_then(|(_, value)| hex::decode(value.as_bytes()).ok());
            let Some(captured) = signature else {
                return attempt;
            };
            let before_body = match scheme {
                "insecure-hubspot-v2" => "POST".len() + PROVIDER_URL.len(),
                _ => 0,
            };
            let (forged, digest) = support::length_extension::extend(
                &captured,
                HUBSPOT_SECRET.len() + before_body,
                &attempt.body,
                suffix,
            );
            attempt.body = Bytes::from(forged);
            attempt.with("x-hubspot-signature", &hex::encode(digest))
        }
    }
}

/// Twilio and HubSpot (v3, and the forgeable v1/v2) through a signature
/// and an idempotency layer, under the generic moves plus moved Twilio
/// parameter boundaries and HubSpot length extensions: documented statuses
/// only, the handler sees only the signed message, and runs once.
#[tokio::test]
async fn twilio_and_hubspot_under_their_own_attacks() {
    let mut runner = TestRunner::new_with_rng(
        ProptestConfig::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed()),
    );
    let per_scheme = (iterations() / 10).max(100);
    let cases: [(&str, &str, &[u8]); 4] = [
        (
            "twilio",
            "preset-secret-0123456789abcdef",
            b"Body=Hi&From=%2B14158675309&MessageSid=SM123&To=%2B18005551212",
        ),
        (
            "hubspot-v3",
            HUBSPOT_SECRET,
            br#"[{"objectId":1,"subscriptionType":"contact.creation"}]"#,
        ),
        (
            "insecure-hubspot-v1",
            HUBSPOT_SECRET,
            br#"[{"objectId":1,"propertyValue":"lead"}]"#,
        ),
        (
            "insecure-hubspot-v2",
            HUBSPOT_SECRET,
            br#"[{"objectId":2,"propertyValue":"lead"}]"#,
        ),
    ];
    for (name, secret, body) in cases {
        let runs: Arc<Mutex<Vec<Bytes>>> = Arc::default();
        let record = Arc::clone(&runs);
        let stack = WebhookStack::new()
            .signature(SignatureLayer::preset(name, secret).unwrap())
            .idempotency(IdempotencyLayer::new())
            .build()
            .unwrap();
        let service =
            ServiceBuilder::new()
                .layer(stack)
                .service_fn(move |request: Request<BufferedBody>| {
                    let record = Arc::clone(&record);
                    async move {
                        let body = request.into_body().collect().await.unwrap().to_bytes();
                        record.lock().unwrap().push(body);
                        Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
                    }
                });
        let signed: Vec<_> = Signer::preset(name, secret)
            .unwrap()
            .sign(&Outgoing::new(body, unix_now(), "").to_url(PROVIDER_URL))
            .unwrap()
            .into_iter()
            .collect();
        let genuine = Attempt {
            path: "/hooks/acme?x=1".into(),
            headers: signed
                .into_iter()
                .chain([header("host", "hooks.example.com")])
                .collect(),
            body: Bytes::from_static(body),
        };
        let strategy = proptest::collection::vec(provider_mutation(), 0..4);
        for _ in 0..per_scheme {
            let mutations = strategy.new_tree(&mut runner).unwrap().current();
            let attempt = mutations
                .iter()
                .fold(genuine.clone(), |a, m| apply_provider(name, a, m));
            let response = service.clone().oneshot(attempt.build()).await.unwrap();
            let status = response.status();
            assert!(
                DOCUMENTED.contains(&status.as_u16()),
                "{name}: undocumented {status} for {mutations:?}"
            );
        }
        let runs = runs.lock().unwrap();
        assert!(
            runs.len() <= 1,
            "{name}: ran {} times: {runs:?}",
            runs.len()
        );
        for run in runs.iter() {
            let same_message = if name == "twilio" {
                twilio_flat(run) == twilio_flat(body)
            } else {
                run[..] == body[..]
            };
            assert!(same_message, "{name}: ran on {run:?}");
        }
    }
}
