//! `examples/prometheus.rs`, run as a newcomer runs it: deliveries to its
//! GitHub and Stripe routes, then a scrape of `/metrics` over HTTP on
//! 127.0.0.1, which must show the provider label, the latency histogram and
//! the idempotency health series an operator alerts on.
//!
//! `cargo test` builds the examples before the tests; after changing the
//! example, run `cargo build --examples --features metrics` before running
//! this test alone (`cargo test --all-features --test cli prometheus::`).

use crate::support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::unix_now;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, StatusCode};
use http_body_util::Full;

const GITHUB_SECRET: &str = "prometheus-github-secret-4d1e";
const STRIPE_SECRET: &str = "whsec_prometheusStripeSecret";

/// `target/debug/examples/<name>`, next to this test's own binary.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let debug = exe.parent().and_then(|deps| deps.parent()).unwrap();
    debug.join("examples").join(name)
}

/// The running example; killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start() -> (Running, SocketAddr) {
    let mut child = Command::new(example("prometheus"))
        .env("PROMETHEUS_ADDR", "127.0.0.1:0")
        .env("GITHUB_SECRET", GITHUB_SECRET)
        .env("STRIPE_SECRET", STRIPE_SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the prometheus example is built by `cargo test --features metrics`");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(addr) = line.strip_prefix("listening on http://") {
                let _ = tx.send(addr.parse::<SocketAddr>().unwrap());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the example prints its address");
    (Running(child), addr)
}

/// The value of the one sample line named `name` holding every label of
/// `labels`.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut found = text.lines().filter(|line| {
        let Some(rest) = line.strip_prefix(name) else {
            return false;
        };
        (rest.starts_with('{') || rest.starts_with(' '))
            && labels
                .iter()
                .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")))
    });
    let line = found.next()?;
    assert!(found.next().is_none(), "more than one {name} {labels:?}");
    line.rsplit(' ').next()?.parse().ok()
}

#[tokio::test]
async fn a_scrape_shows_providers_latency_and_idempotency_health() {
    let (_running, addr) = start();
    let body = br#"{"zen":"Keep it logically awesome."}"#;
    let mut signed = support::signed_headers("github", GITHUB_SECRET, body, unix_now(), "");
    signed.push((
        HeaderName::from_static("x-github-delivery"),
        HeaderValue::from_static("72d3162e-cc78-11e3-81ab-4c9367dc0958"),
    ));
    signed.push((
        HeaderName::from_static("x-github-event"),
        HeaderValue::from_static("ping"),
    ));
    let accepted = support::post_with(addr, "/github", &signed, body).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text());
    let duplicate = support::post_with(addr, "/github", &signed, body).await;
    assert_eq!(duplicate.status, StatusCode::OK);
    let forged = [(
        HeaderName::from_static("stripe-signature"),
        HeaderValue::from_str(&format!("t={},v1={}", unix_now(), "00".repeat(32))).unwrap(),
    )];
    let refused = support::post_with(addr, "/stripe", &forged, b"{}").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);

    let scrape = Request::get(format!("http://{addr}/metrics"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let reply = support::send(scrape).await;
    assert_eq!(reply.status, StatusCode::OK);
    let text = reply.text();

    let requests = |provider, outcome, reason| {
        sample(
            &text,
            "webhook_requests_total",
            &[
                ("provider", provider),
                ("outcome", outcome),
                ("reason", reason),
            ],
        )
    };
    assert_eq!(requests("github", "accepted", "none"), Some(1.0), "{text}");
    assert_eq!(requests("github", "duplicate", "duplicate"), Some(1.0));
    assert_eq!(
        requests("stripe", "rejected", "signature_mismatch"),
        Some(1.0)
    );
    // The latency is a histogram: buckets, a count and a sum per series.
    assert_eq!(
        sample(
            &text,
            "webhook_request_duration_seconds_count",
            &[("provider", "github"), ("outcome", "accepted")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            "webhook_request_duration_seconds_bucket",
            &[
                ("provider", "stripe"),
                ("outcome", "rejected"),
                ("le", "+Inf")
            ]
        ),
        Some(1.0)
    );
    assert!(text.contains("# TYPE webhook_request_duration_seconds histogram"));
    // What an operator alerts on is there, at 0, before any fault.
    assert_eq!(
        sample(&text, "webhook_idempotency_leases_lost_total", &[]),
        Some(0.0)
    );
    assert_eq!(
        sample(&text, "webhook_idempotency_completions_lost_total", &[]),
        Some(0.0)
    );
    assert_eq!(
        sample(
            &text,
            "webhook_idempotency_store_errors_total",
            &[("operation", "reserve"), ("error", "timeout")]
        ),
        Some(0.0)
    );
    assert!(text.contains("# HELP webhook_requests_total"));
}
