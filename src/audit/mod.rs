//! An audit trail: one event per request, accepted or rejected, and why.
//!
//! [`AuditLayer`] goes outermost. It creates the request's
//! [`WebhookContext`](crate::WebhookContext), lets the inner layers fill
//! it, and when the response comes back records an [`AuditEvent`]:
//! `webhook.accepted` when the handler ran, `webhook.rejected` when a layer
//! answered instead, `webhook.duplicate` when a delivery already handled was
//! acknowledged with `200`, with an RFC 3339 timestamp, the request id
//! (tower-http's `x-request-id`, when present), the reason's stable name and
//! its detail (e.g. which body limit fired), the status (and the
//! `grpc-status` of a refused gRPC call, answered with HTTP 200), the
//! authentication method (`auth_method`, only a credential that verified:
//! a request refused for its signature or token has none, even from an
//! allowlisted address) and the credential refused (`auth_attempted`), key
//! id and scheme, the tenant, client IP,
//! idempotency key, method, path (never the query; a path segment holding a
//! token reads `<redacted>`) and latency. Events never hold a secret, token
//! or signature. [`EventNames::Seed`] names them `webhook.triggered` /
//! `webhook.rejected` with `auth` and `reason` instead.
//! When the inner service fails with `Err` instead of answering, the event
//! is `webhook.rejected` with [`service_error`](AuditEvent::service_error)
//! set and status 500; the error itself is not recorded. An inbox
//! [`Worker`](crate::inbox::Worker) given the layer
//! ([`Worker::audit`](crate::inbox::Worker::audit)) sends its events
//! (`webhook.inbox.*`: retries, dead letters, takeovers, lost holds) to the
//! same sinks.
//!
//! Events go to sinks: [`tracing`] by default, closures,
//! a bounded channel ([`ChannelSink`]) or JSON lines on any writer
//! ([`JsonLinesSink`]). The channel-backed sinks never make a request wait:
//! when the consumer falls behind, events are dropped and counted.
//! [`AuditLayer::counts`] gives totals per outcome, reason, and tenant ×
//! authentication method; with the `metrics` feature they are also
//! exported through the `metrics` facade (`audit::metrics`).
//!
//! ```
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::sync::Arc;
//! use axum::{routing::post, Router};
//! use tower::ServiceBuilder;
//! use tower_webhook::audit::{AuditLayer, JsonLinesSink};
//! use tower_webhook::signature::SignatureLayer;
//! use tower_webhook::Secret;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let refused = Arc::new(AtomicUsize::new(0));
//! let audit = AuditLayer::new()
//!     .sink(JsonLinesSink::new(std::io::stdout())?)
//!     .on_reject({
//!         let refused = Arc::clone(&refused);
//!         move |event| {
//!             refused.fetch_add(1, Ordering::Relaxed);
//!             eprintln!("refused: {:?}", event.reason);
//!         }
//!     });
//! // A clone shares the layer's totals.
//! let counters = audit.clone();
//!
//! let app: Router = Router::new().route(
//!     "/github",
//!     post(|| async { "thanks" }).layer(
//!         ServiceBuilder::new()
//!             .layer(audit)
//!             .layer(SignatureLayer::github(Secret::new("It's a Secret to Everybody")?)),
//!     ),
//! );
//! # let _ = app;
//! // Later, for a dashboard:
//! let counts = counters.counts();
//! println!("{} accepted, {} legacy", counts.accepted, counts.tenant_method("", "token (legacy)"));
//! # Ok(())
//! # }
//! ```
//!
//! The audit layer only sees what reaches it: put tower-http's
//! `TraceLayer` inside `provider::sensitive_headers_layer()` so the
//! credential headers of every preset print as `Sensitive`.

mod counters;
mod event;
mod layer;
#[cfg(feature = "metrics")]
pub mod metrics;
mod redact;
mod sink;
#[cfg(test)]
mod tests;

pub use counters::AuditCounts;
pub(crate) use counters::MAX_TENANT_ENTRIES;
pub use event::{AuditEvent, EventNames, Outcome};
#[cfg(any(feature = "stack", feature = "inbox"))]
pub(crate) use layer::AuditConfig;
pub use layer::{Audit, AuditLayer, ResponseFuture};
pub use sink::{AuditSink, ChannelSink, JsonLinesSink};
