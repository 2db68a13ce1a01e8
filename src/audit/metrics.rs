//! The audit counters through the [`metrics`] facade (feature
//! `metrics`): the exporter the application installs (Prometheus,
//! OpenTelemetry, StatsD, ...) publishes them; without one they cost a
//! lookup that finds nothing.
//!
//! Every [`AuditLayer`](super::AuditLayer) adds to these counters as it adds
//! to its [`AuditCounters`](super::AuditCounters):
//!
//! | name | labels | counts |
//! |---|---|---|
//! | `webhook_requests_total` | `outcome`: an [`Outcome`](super::Outcome) name (`accepted`, `rejected`) | requests |
//! | `webhook_rejections_total` | `reason`: a [`Reason`](crate::Reason) name | rejections, by reason |
//! | `webhook_service_errors_total` | | requests the inner service answered with `Err` |
//! | `webhook_requests_by_tenant_total` | `tenant`, `method` | requests per tenant and authentication method |
//! | `webhook_audit_sink_panics_total` | | events a sink panicked on |
//!
//! Label values are bounded: `outcome` and `reason` are fixed names,
//! `method` is an [`AuthMethod`](crate::AuthMethod) name or `none` (which
//! is also where requests refused for their credential count), and
//! `tenant` is `""` without a tenant; each audit layer labels at most
//! [`MAX_TENANT_ENTRIES`](super::MAX_TENANT_ENTRIES) tenant × method pairs
//! and counts the tenants past them as
//! [`OTHER_TENANTS`](super::OTHER_TENANTS), so names sent by strangers
//! cannot grow an exporter without limit.
//!
//! ```
//! use tower_webhook::audit::{metrics, AuditLayer};
//!
//! // Install any `metrics` recorder (an exporter) once at start-up, then:
//! let audit = AuditLayer::new();
//! assert_eq!(metrics::REQUESTS, "webhook_requests_total");
//! # let _ = audit;
//! ```

use std::sync::Arc;

use ::metrics::{counter, SharedString};

use super::event::AuditEvent;

/// Requests, labelled `outcome`.
pub const REQUESTS: &str = "webhook_requests_total";
/// Rejections, labelled `reason`.
pub const REJECTIONS: &str = "webhook_rejections_total";
/// Requests the inner service answered with `Err`.
pub const SERVICE_ERRORS: &str = "webhook_service_errors_total";
/// Requests, labelled `tenant` and `method`.
pub const REQUESTS_BY_TENANT: &str = "webhook_requests_by_tenant_total";
/// Events a sink panicked on.
pub const SINK_PANICS: &str = "webhook_audit_sink_panics_total";

/// Count `event`; `tenant` is the label [`AuditCounters`](super::AuditCounters)
/// counted it under (already bounded).
pub(crate) fn record(event: &AuditEvent, tenant: Arc<str>, method: &'static str) {
    counter!(REQUESTS, "outcome" => event.outcome.as_str()).increment(1);
    if let Some(reason) = event.reason {
        counter!(REJECTIONS, "reason" => reason.as_str()).increment(1);
    }
    if event.service_error {
        counter!(SERVICE_ERRORS).increment(1);
    }
    counter!(REQUESTS_BY_TENANT, "tenant" => SharedString::from(tenant), "method" => method)
        .increment(1);
}

pub(crate) fn record_sink_panic() {
    counter!(SINK_PANICS).increment(1);
}
