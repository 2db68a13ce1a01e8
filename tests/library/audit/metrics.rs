//! The audit counters through the `metrics` facade (feature `metrics`), read
//! back from a recorder of our own: names, labels (a provider label that
//! tells GitHub's rejections from Stripe's), the latency histogram, the
//! idempotency layer's health, and a tenant label whose values stay bounded
//! however many names senders make up.
#![cfg(feature = "metrics")]

use crate::support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::routing::post;
use axum::Router;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use std::time::Duration;
use tower::{ServiceBuilder, ServiceExt};
use tower_webhook::audit::AuditLayer;

/// The series names as a dashboard spells them (the audit module documents
/// them in a table, not as constants).
mod names {
    pub const REQUESTS: &str = "webhook_requests_total";
    pub const REJECTIONS: &str = "webhook_rejections_total";
    pub const LATENCY: &str = "webhook_request_duration_seconds";
    pub const SERVICE_ERRORS: &str = "webhook_service_errors_total";
    pub const REQUESTS_BY_TENANT: &str = "webhook_requests_by_tenant_total";
    pub const SINK_PANICS: &str = "webhook_audit_sink_panics_total";
    pub const IDEMPOTENCY_LEASES_LOST: &str = "webhook_idempotency_leases_lost_total";
    pub const IDEMPOTENCY_COMPLETIONS_LOST: &str = "webhook_idempotency_completions_lost_total";
    pub const IDEMPOTENCY_STORE_ERRORS: &str = "webhook_idempotency_store_errors_total";
}

/// The tenant × method pairs an audit layer labels, and the tenant the rest
/// count under, as the metrics module documents them.
const MAX_TENANT_ENTRIES: usize = 10_000;
const OTHER_TENANTS: &str = "(other)";

use tower_webhook::idempotency::{
    IdempotencyLayer, IdempotencyStore, Reservation, StoreError, StoreFuture, StoredOutcome, Token,
};
use tower_webhook::signature::{Key as SigningKey, Keyring, SignatureLayer};
use tower_webhook::token::{TokenLayer, TokenSet};
use tower_webhook::{Secret, WebhookContext};

const GITHUB_SECRET: &str = "github-metrics-secret-5e1d";
const LEGACY_TOKEN: &str = "legacy-metrics-token-8c2b";

/// Counters, and the number of values each histogram recorded, by
/// `name{label=value,...}` (labels sorted); gauges are not used by the
/// crate.
#[derive(Default)]
struct Recording(Mutex<BTreeMap<String, Arc<AtomicU64>>>);

/// A histogram that counts the values it records.
struct Samples(Arc<AtomicU64>);

impl metrics::HistogramFn for Samples {
    fn record(&self, _: f64) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn series(name: &str, labels: &[(&str, &str)]) -> String {
    let mut labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    labels.sort();
    format!("{name}{{{}}}", labels.join(","))
}

impl Recording {
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        self.0
            .lock()
            .unwrap()
            .get(&series(name, labels))
            .map_or(0, |count| count.load(Ordering::SeqCst))
    }

    fn series_named(&self, name: &str) -> Vec<String> {
        let prefix = format!("{name}{{");
        let all = self.0.lock().unwrap();
        all.keys()
            .filter(|s| s.starts_with(&prefix))
            .cloned()
            .collect()
    }
}

impl Recorder for Recording {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let labels: Vec<(&str, &str)> = key.labels().map(|l| (l.key(), l.value())).collect();
        let mut all = self.0.lock().unwrap();
        let count = all.entry(series(key.name(), &labels)).or_default();
        Counter::from_arc(Arc::clone(count))
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        let labels: Vec<(&str, &str)> = key.labels().map(|l| (l.key(), l.value())).collect();
        let mut all = self.0.lock().unwrap();
        let count = all.entry(series(key.name(), &labels)).or_default();
        Histogram::from_arc(Arc::new(Samples(Arc::clone(count))))
    }
}

/// `tokio::test` runs the server, the client and the layers on this one
/// thread, so a thread-local recorder sees all of them and each test has
/// its own.
#[tokio::test]
async fn each_request_is_counted_by_outcome_reason_tenant_and_method() {
    let recording = Recording::default();
    let _guard = metrics::set_default_local_recorder(&recording);
    let audit = AuditLayer::without_sinks();
    let legacy = TokenSet::new().with("legacy", Secret::new(LEGACY_TOKEN).unwrap());
    let layer = |tenant: &'static str| {
        let signature = SignatureLayer::github(Secret::new(GITHUB_SECRET).unwrap())
            .accept_legacy_token(HeaderName::from_static("x-legacy-token"), legacy.clone());
        ServiceBuilder::new()
            .layer(audit.clone())
            .map_request(move |mut request: Request<Body>| {
                WebhookContext::of(&mut request).set_tenant(tenant);
                request
            })
            .layer(signature)
    };
    let handler = || post(|| async { "ok" });
    let router = Router::new()
        .route("/acme", handler().layer(layer("acme")))
        .route("/globex", handler().layer(layer("globex")));
    let addr = support::serve(router).await;
    let body = b"{}";
    let signed = support::signed_headers("github", GITHUB_SECRET, body, 0, "");
    let legacy_header = [(
        HeaderName::from_static("x-legacy-token"),
        HeaderValue::from_static(LEGACY_TOKEN),
    )];
    for _ in 0..3 {
        let reply = support::post_with(addr, "/acme", &signed, body).await;
        assert_eq!(reply.status, StatusCode::OK);
    }
    support::post_with(addr, "/globex", &legacy_header, body).await;
    support::post_with(addr, "/globex", &[], body).await;
    support::post_with(addr, "/globex", &signed, b"tampered").await;

    let requests = |outcome, reason| {
        recording.get(
            names::REQUESTS,
            &[
                ("provider", "github"),
                ("outcome", outcome),
                ("reason", reason),
            ],
        )
    };
    assert_eq!(requests("accepted", "none"), 4);
    assert_eq!(requests("rejected", "signature_missing"), 1);
    assert_eq!(requests("rejected", "signature_mismatch"), 1);
    assert_eq!(recording.series_named(names::REQUESTS).len(), 3);
    assert_eq!(
        recording.series_named(names::REJECTIONS),
        [
            series(
                names::REJECTIONS,
                &[("provider", "github"), ("reason", "signature_mismatch")]
            ),
            series(
                names::REJECTIONS,
                &[("provider", "github"), ("reason", "signature_missing")]
            ),
        ]
    );
    let latency = |outcome| {
        recording.get(
            names::LATENCY,
            &[("provider", "github"), ("outcome", outcome)],
        )
    };
    assert_eq!((latency("accepted"), latency("rejected")), (4, 2));
    let by_tenant = |tenant, method| {
        recording.get(
            names::REQUESTS_BY_TENANT,
            &[("tenant", tenant), ("method", method)],
        )
    };
    assert_eq!(by_tenant("acme", "signature"), 3);
    assert_eq!(by_tenant("globex", "token (legacy)"), 1);
    assert_eq!(by_tenant("globex", "none"), 2);
    assert_eq!(recording.series_named(names::REQUESTS_BY_TENANT).len(), 3);
    assert_eq!(recording.get(names::SERVICE_ERRORS, &[]), 0);

    // The exported totals are the layer's own counters.
    let counts = audit.counts();
    assert_eq!((counts.accepted, counts.rejected), (4, 2));
}

#[tokio::test]
async fn made_up_tenant_names_share_one_label_past_the_bound() {
    let recording = Recording::default();
    let _guard = metrics::set_default_local_recorder(&recording);
    let service = ServiceBuilder::new()
        .layer(AuditLayer::without_sinks())
        .map_request(|mut request: Request<Body>| {
            let tenant = request.uri().path().trim_start_matches('/').to_owned();
            WebhookContext::of(&mut request).set_tenant(tenant.as_str());
            request
        })
        .service_fn(|_: Request<Body>| async {
            Ok::<_, std::io::Error>(Response::new(Body::empty()))
        });
    for n in 0..MAX_TENANT_ENTRIES + 300 {
        let request = Request::post(format!("/tenant-{n}"))
            .body(Body::empty())
            .unwrap();
        service.clone().oneshot(request).await.unwrap();
    }
    let request = Request::post("/tenant-0").body(Body::empty()).unwrap();
    service.clone().oneshot(request).await.unwrap();

    let series = recording.series_named(names::REQUESTS_BY_TENANT);
    assert_eq!(series.len(), MAX_TENANT_ENTRIES + 1);
    let by_tenant = |tenant| {
        recording.get(
            names::REQUESTS_BY_TENANT,
            &[("tenant", tenant), ("method", "none")],
        )
    };
    assert_eq!(by_tenant(OTHER_TENANTS), 300);
    assert_eq!(by_tenant("tenant-0"), 2);
    assert_eq!(
        recording.get(
            names::REQUESTS,
            &[
                ("provider", "none"),
                ("outcome", "accepted"),
                ("reason", "none")
            ]
        ),
        MAX_TENANT_ENTRIES as u64 + 301
    );
}

#[tokio::test]
async fn service_errors_and_sink_panics_are_counted() {
    let recording = Recording::default();
    let _guard = metrics::set_default_local_recorder(&recording);
    let audit = AuditLayer::without_sinks().sink(|_: &tower_webhook::audit::AuditEvent| {
        panic!("a sink that fails");
    });
    let failing = ServiceBuilder::new()
        .layer(audit)
        .service_fn(|_: Request<Body>| async {
            Err::<Response<Body>, _>(std::io::Error::other("store down"))
        });
    let request = Request::post("/hook").body(Body::empty()).unwrap();
    assert!(failing.oneshot(request).await.is_err());

    assert_eq!(recording.get(names::SERVICE_ERRORS, &[]), 1);
    assert_eq!(recording.get(names::SINK_PANICS, &[]), 1);
    assert_eq!(
        recording.get(
            names::REQUESTS,
            &[
                ("provider", "none"),
                ("outcome", "rejected"),
                ("reason", "none")
            ]
        ),
        1
    );
}

#[tokio::test]
async fn rejections_are_told_apart_by_provider() {
    let recording = Recording::default();
    let _guard = metrics::set_default_local_recorder(&recording);
    let audit = AuditLayer::without_sinks();
    let timestamped = tower_webhook::provider::scheme_by_name("timestamped").unwrap();
    let key = timestamped.parse_key(GITHUB_SECRET).unwrap();
    let custom =
        SignatureLayer::from_arc(timestamped, Keyring::new().with(SigningKey::new("k", key)))
            .unwrap();
    let router = Router::new()
        .route(
            "/github",
            post(|| async { "ok" }).layer(
                ServiceBuilder::new()
                    .layer(audit.clone())
                    .layer(SignatureLayer::github(Secret::new(GITHUB_SECRET).unwrap())),
            ),
        )
        .route(
            "/stripe",
            post(|| async { "ok" }).layer(ServiceBuilder::new().layer(audit.clone()).layer(
                SignatureLayer::stripe(Secret::new("whsec_metrics").unwrap()),
            )),
        )
        .route(
            "/custom",
            post(|| async { "ok" }).layer(ServiceBuilder::new().layer(audit.clone()).layer(custom)),
        )
        .route(
            "/token",
            post(|| async { "ok" }).layer(
                ServiceBuilder::new()
                    .layer(audit.clone())
                    .layer(TokenLayer::bearer().accept("main", Secret::new(LEGACY_TOKEN).unwrap())),
            ),
        );
    let addr = support::serve(router).await;
    let forged = [(
        HeaderName::from_static("stripe-signature"),
        HeaderValue::from_static("t=1700000000,v1=00"),
    )];
    support::post_with(addr, "/github", &[], b"{}").await;
    support::post_with(addr, "/stripe", &[], b"{}").await;
    support::post_with(addr, "/stripe", &forged, b"{}").await;
    support::post_with(addr, "/custom", &[], b"{}").await;
    support::post_with(addr, "/token", &[], b"{}").await;

    let rejected = |provider, reason| {
        recording.get(
            names::REJECTIONS,
            &[("provider", provider), ("reason", reason)],
        )
    };
    assert_eq!(rejected("github", "signature_missing"), 1);
    assert_eq!(rejected("stripe", "signature_missing"), 1);
    assert_eq!(recording.series_named(names::REJECTIONS).len(), 5);
    assert_eq!(
        recording.get(
            names::REQUESTS,
            &[
                ("provider", "timestamped"),
                ("outcome", "rejected"),
                ("reason", "signature_missing")
            ]
        ),
        1,
        "a custom scheme is labelled with its configured name"
    );
    assert_eq!(
        recording.get(
            names::REQUESTS,
            &[
                ("provider", "none"),
                ("outcome", "rejected"),
                ("reason", "token_missing")
            ]
        ),
        1
    );
    let stripe_forged: u64 = recording
        .series_named(names::REJECTIONS)
        .iter()
        .filter(|s| s.contains("provider=stripe") && !s.contains("signature_missing"))
        .count() as u64;
    assert_eq!(
        stripe_forged,
        1,
        "{:?}",
        recording.series_named(names::REJECTIONS)
    );
}

/// A store whose reservations of `down-…` keys time out, whose renewals
/// report the lease gone (and say so to the handler waiting for it), whose
/// completions find the key taken over and whose releases fail.
#[derive(Clone, Default)]
struct FaultyStore {
    renewed: Arc<tokio::sync::Notify>,
}

impl IdempotencyStore for FaultyStore {
    fn reserve<'a>(&'a self, key: &'a str, _: Duration) -> StoreFuture<'a, Reservation> {
        Box::pin(async move {
            if key.contains("down-") {
                return Err(StoreError::Timeout(Duration::from_secs(1)));
            }
            Ok(Reservation::Acquired(Token::generate()?))
        })
    }

    fn complete<'a>(
        &'a self,
        _: &'a str,
        _: &'a Token,
        _: StoredOutcome,
        _: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async { Ok(false) })
    }

    fn release<'a>(&'a self, _: &'a str, _: &'a Token) -> StoreFuture<'a, bool> {
        Box::pin(async { Err(StoreError::backend("connection reset")) })
    }

    fn renew<'a>(&'a self, _: &'a str, _: &'a Token, _: Duration) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            self.renewed.notify_one();
            Ok(false)
        })
    }
}

#[tokio::test]
async fn idempotency_faults_are_exported() {
    let recording = Recording::default();
    let _guard = metrics::set_default_local_recorder(&recording);
    let store = FaultyStore::default();
    let renewed = Arc::clone(&store.renewed);
    let idempotency = IdempotencyLayer::from_unsigned_header(HeaderName::from_static("x-id"))
        .store(store)
        // Renewed every 10 ms: the handler below waits for the first one.
        .lock_ttl(Duration::from_millis(30));
    let router = Router::new().route(
        "/hook",
        post(move |headers: http::HeaderMap| {
            let renewed = Arc::clone(&renewed);
            async move {
                match headers["x-id"].to_str().unwrap() {
                    "slow-1" => {
                        renewed.notified().await;
                        StatusCode::OK
                    }
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                }
            }
        })
        .layer(
            ServiceBuilder::new()
                .layer(AuditLayer::without_sinks())
                .layer(idempotency.clone()),
        ),
    );
    let addr = support::serve(router).await;
    let id = |value: &'static str| {
        [(
            HeaderName::from_static("x-id"),
            HeaderValue::from_static(value),
        )]
    };
    let down = support::post_with(addr, "/hook", &id("down-1"), b"{}").await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
    let slow = support::post_with(addr, "/hook", &id("slow-1"), b"{}").await;
    assert_eq!(slow.status, StatusCode::OK);
    let failing = support::post_with(addr, "/hook", &id("fails-1"), b"{}").await;
    assert_eq!(failing.status, StatusCode::INTERNAL_SERVER_ERROR);

    let store_errors = |operation, error| {
        recording.get(
            names::IDEMPOTENCY_STORE_ERRORS,
            &[("operation", operation), ("error", error)],
        )
    };
    assert_eq!(store_errors("reserve", "timeout"), 1);
    assert_eq!(recording.get(names::IDEMPOTENCY_LEASES_LOST, &[]), 1);
    assert_eq!(recording.get(names::IDEMPOTENCY_COMPLETIONS_LOST, &[]), 1);
    // Every attempt at the release is counted (it is tried a few times).
    assert!(store_errors("release", "backend") >= 1);
    let counts = idempotency.counts();
    assert_eq!((counts.leases_lost, counts.completions_lost), (1, 1));
}
