//! The full stack the load test and the benches put in front of a route:
//! IP allowlist, Standard Webhooks signature, replay window on the signed
//! timestamp, idempotency on `webhook-id`, audit (to `tracing`).
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http::HeaderMap;
use tower_webhook::audit::AuditLayer;
use tower_webhook::idempotency::IdempotencyLayer;
use tower_webhook::ip::IpFilterLayer;
use tower_webhook::replay::ReplayLayer;
use tower_webhook::signature::{Outgoing, SignatureLayer, Signer};
use tower_webhook::{WebhookLayer, WebhookStack};

/// Seconds since the Unix epoch, as a sender stamps a delivery.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

/// The Standard Webhooks test secret.
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Every protection, for bodies up to `body_limit` bytes.
pub fn stack(body_limit: usize) -> WebhookLayer {
    stack_with(body_limit, IdempotencyLayer::new())
}

/// The same stack with its idempotency layer configured by the caller (the
/// benches give it a store already full, as in a receiver that has run a
/// while).
pub fn stack_with(body_limit: usize, idempotency: IdempotencyLayer) -> WebhookLayer {
    WebhookStack::new()
        .ip_filter(
            IpFilterLayer::new()
                .allow("127.0.0.0/8, ::1, 10.0.0.0/8")
                .expect("valid allowlist"),
        )
        .signature(SignatureLayer::preset("standard", SECRET).expect("valid secret"))
        .replay(ReplayLayer::signed_timestamp())
        .idempotency(idempotency)
        .audit(AuditLayer::new())
        .body_limit(body_limit.max(1024))
        .build()
        .expect("a consistent stack")
}

/// Headers of a fresh delivery of `body`: signed now, with an id no other
/// call in this process has used, so every request runs the handler.
pub fn signed_headers(body: &[u8]) -> HeaderMap {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let id = format!("msg_{}", NEXT.fetch_add(1, Ordering::Relaxed));
    Signer::preset("standard", SECRET)
        .expect("preset")
        .sign(&Outgoing::new(body, unix_now(), &id))
        .expect("signed")
        .into_iter()
        .collect()
}

/// The handler both the bare and the stacked route run.
pub async fn handler(body: Bytes) -> String {
    body.len().to_string()
}

/// `POST /hook` behind the full stack.
pub fn router(body_limit: usize) -> Router {
    Router::new().route("/hook", post(handler).layer(stack(body_limit)))
}

/// `POST /hook` with no layer.
pub fn bare_router() -> Router {
    Router::new().route("/hook", post(handler))
}
