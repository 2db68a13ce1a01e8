//! The audit counters through the `metrics` facade (feature `metrics`), read
//! back from a recorder of our own: names, labels, and a tenant label whose
//! values stay bounded however many names senders make up.
#![cfg(feature = "metrics")]

mod support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::routing::post;
use axum::Router;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use tower::{ServiceBuilder, ServiceExt};
use tower_webhook::audit::{metrics as names, AuditLayer, MAX_TENANT_ENTRIES, OTHER_TENANTS};
use tower_webhook::signature::SignatureLayer;
use tower_webhook::token::TokenSet;
use tower_webhook::{Secret, WebhookContext};

const GITHUB_SECRET: &str = "github-metrics-secret-5e1d";
const LEGACY_TOKEN: &str = "legacy-metrics-token-8c2b";

/// Counters by `name{label=value,...}` (labels sorted); gauges and
/// histograms are not used by the crate.
#[derive(Default)]
struct Recording(Mutex<BTreeMap<String, Arc<AtomicU64>>>);

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

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
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

    assert_eq!(
        recording.get(names::REQUESTS, &[("outcome", "accepted")]),
        4
    );
    assert_eq!(
        recording.get(names::REQUESTS, &[("outcome", "rejected")]),
        2
    );
    assert_eq!(
        recording.series_named(names::REJECTIONS),
        [
            series(names::REJECTIONS, &[("reason", "signature_mismatch")]),
            series(names::REJECTIONS, &[("reason", "signature_missing")]),
        ]
    );
    assert_eq!(
        recording.get(names::REJECTIONS, &[("reason", "signature_missing")]),
        1
    );
    assert_eq!(
        recording.get(names::REJECTIONS, &[("reason", "signature_mismatch")]),
        1
    );
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
    let counts = audit.counters().snapshot();
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
        recording.get(names::REQUESTS, &[("outcome", "accepted")]),
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
        recording.get(names::REQUESTS, &[("outcome", "rejected")]),
        1
    );
}
