//! Webhook metrics for Prometheus: requests by provider, outcome and reason,
//! a latency histogram, and the idempotency layer's health.
//!
//! ```text
//! cargo run --example prometheus --features metrics
//! curl -s http://127.0.0.1:3001/metrics
//! ```
//!
//! Serves `/github` and `/stripe` (their provider bundles, secrets from
//! `GITHUB_SECRET` and `STRIPE_SECRET`, generated when unset) and the
//! metrics in Prometheus' text format on `/metrics`, on `127.0.0.1:3001`
//! (`PROMETHEUS_ADDR` overrides; port 0 picks a free one).
//!
//! The exporter is `metrics-exporter-prometheus` without its default
//! features (no HTTP listener, no push gateway): the application's own
//! router serves the rendered text, next to its webhooks.

use std::error::Error;
use std::net::SocketAddr;

use axum::routing::{get, post};
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
use tower_webhook::audit::{metrics, AuditLayer};
use tower_webhook::{Secret, WebhookStack};

fn secret(env: &str, generated: &str) -> Result<Secret, Box<dyn Error + Send + Sync>> {
    let value = std::env::var(env).unwrap_or_else(|_| generated.to_owned());
    Ok(Secret::new(value)?)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    let addr: SocketAddr = std::env::var("PROMETHEUS_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:3001".to_owned())
        .parse()?;
    // Buckets make the latency a Prometheus histogram (the exporter renders
    // a summary otherwise), so it can be aggregated across replicas.
    let prometheus = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("webhook_request_duration_seconds".to_owned()),
            metrics::LATENCY_BUCKETS,
        )?
        .install_recorder()?;
    // Help texts, and the alert series at 0 before the first fault.
    metrics::describe();

    let audit = AuditLayer::new();
    let github = WebhookStack::github(secret("GITHUB_SECRET", "demo-github-secret-1f0c")?)
        .audit(audit.clone())
        .build()?;
    let stripe = WebhookStack::stripe(secret("STRIPE_SECRET", "whsec_demoStripeSecret0")?)
        .audit(audit)
        .build()?;
    let app = Router::new()
        .route("/github", post(|| async { "thanks" }).layer(github))
        .route("/stripe", post(|| async { "thanks" }).layer(stripe))
        .route(
            "/metrics",
            get(move || {
                let prometheus = prometheus.clone();
                async move { prometheus.render() }
            }),
        );

    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
