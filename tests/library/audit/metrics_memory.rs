//! What the `metrics` feature costs a request when the application installed
//! no recorder: no allocation. An audited request allocates exactly as
//! often with the feature as without it (this file runs in both builds).
//! Measured with `allocation-counter`, which counts per thread
//! (`alloc.rs`): the other tests' allocations do not count.

use std::convert::Infallible;
use std::sync::Arc;

use http::{Request, Response};
use tower::{Service, ServiceExt};
use tower_webhook::audit::AuditLayer;
use tower_webhook::{Reason, WebhookContext};

use crate::alloc::measured;

/// What an audited request allocates, the metrics feature or not: the
/// shared context, the event's timestamp and path, and the response.
const ALLOCATIONS_PER_REQUEST: usize = ALLOCATIONS_WITHOUT_METRICS;

/// Measured in a build without the `metrics` feature.
const ALLOCATIONS_WITHOUT_METRICS: usize = 6;

#[tokio::test(flavor = "current_thread")]
async fn without_a_recorder_the_metrics_feature_allocates_nothing_per_request() {
    let (github, acme): (Arc<str>, Arc<str>) = (Arc::from("github"), Arc::from("acme"));
    let layers = tower::ServiceBuilder::new()
        .layer(AuditLayer::without_sinks())
        .map_request(move |mut request: Request<String>| {
            // What a GitHub signature layer records when it refuses, and a
            // tenant: every label of every series is in play.
            let (scheme, tenant) = (Arc::clone(&github), Arc::clone(&acme));
            WebhookContext::of(&mut request).update(|verification| {
                verification.tenant = Some(tenant);
                verification.scheme = Some(scheme);
                verification.rejection = Some(Reason::SignatureMismatch);
            });
            request
        });
    let mut service = layers.service(tower::service_fn(|_: Request<_>| async {
        Ok::<_, Infallible>(Response::new(String::new()))
    }));
    let request = || Request::post("/hook").body("{}".to_owned()).unwrap();
    // The first request builds what is built once (label sets, series keys).
    service
        .ready()
        .await
        .unwrap()
        .call(request())
        .await
        .unwrap();

    const REQUESTS: usize = 100;
    let mut allocations = 0;
    for _ in 0..REQUESTS {
        let request = request();
        let ((), counted) = measured(async {
            let response = service.ready().await.unwrap().call(request).await.unwrap();
            drop(response);
        })
        .await;
        allocations += counted.count_total as usize;
    }
    let per_request = allocations as f64 / REQUESTS as f64;
    eprintln!("allocations per request: {per_request}");
    assert_eq!(allocations, ALLOCATIONS_PER_REQUEST * REQUESTS);
}
