//! The full stack the load test and the benches put in front of a route:
//! IP allowlist, Standard Webhooks signature, replay window on the signed
//! timestamp, idempotency on `webhook-id`, audit (to `tracing`), and the
//! hand-written receiver it is compared with.
#![allow(dead_code)]

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
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

/// The least work any correct receiver does, written by hand: the same
/// Standard Webhooks deliveries checked with a raw HMAC, a constant-time
/// compare, the replay window and a `HashSet` of seen ids. No audit, no IP
/// filter, no store that forgets: the anchor the full stack is compared
/// with.
#[derive(Clone)]
pub struct HandWritten {
    mac: hmac::Hmac<sha2::Sha256>,
    seen: Arc<Mutex<HashSet<String>>>,
}

impl HandWritten {
    /// A receiver of deliveries signed with [`SECRET`].
    pub fn new() -> Self {
        use base64::Engine as _;
        use hmac::KeyInit as _;
        let key = base64::engine::general_purpose::STANDARD
            .decode(SECRET.trim_start_matches("whsec_"))
            .expect("the secret is base64");
        Self {
            mac: hmac::Hmac::new_from_slice(&key).expect("any key length"),
            seen: Arc::default(),
        }
    }

    /// `None` when the handler should run; otherwise the status to answer
    /// (`401` refused, `200` a duplicate).
    pub fn check(&self, headers: &HeaderMap, body: &[u8]) -> Option<StatusCode> {
        use base64::Engine as _;
        use hmac::Mac as _;
        use subtle::ConstantTimeEq as _;
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let (Some(id), Some(timestamp), Some(signatures)) = (
            text("webhook-id"),
            text("webhook-timestamp"),
            text("webhook-signature"),
        ) else {
            return Some(StatusCode::UNAUTHORIZED);
        };
        let Ok(sent_at) = timestamp.parse::<i64>() else {
            return Some(StatusCode::UNAUTHORIZED);
        };
        let now = std::time::UNIX_EPOCH
            .elapsed()
            .map_or(0, |now| now.as_secs() as i64);
        if (now - sent_at).abs() > 300 {
            return Some(StatusCode::UNAUTHORIZED);
        }
        let mut mac = self.mac.clone();
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        let expected = mac.finalize().into_bytes();
        let verified = signatures.split(' ').any(|candidate| {
            candidate
                .strip_prefix("v1,")
                .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
                .is_some_and(|sent| bool::from(sent.ct_eq(&expected)))
        });
        if !verified {
            return Some(StatusCode::UNAUTHORIZED);
        }
        if !self.seen.lock().unwrap().insert(id.to_owned()) {
            return Some(StatusCode::OK);
        }
        None
    }
}

/// `POST /hook` behind [`HandWritten`] (axum reads the body, up to its
/// default 2 MB limit).
pub fn hand_written_router() -> Router {
    let receiver = HandWritten::new();
    Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let receiver = receiver.clone();
            async move {
                match receiver.check(&headers, &body) {
                    Some(status) => (status, String::new()),
                    None => (StatusCode::OK, handler(body).await),
                }
            }
        }),
    )
}

/// `POST /hook` with no layer.
pub fn bare_router() -> Router {
    Router::new().route("/hook", post(handler))
}
