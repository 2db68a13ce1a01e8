//! [`AuditCounters`]: totals an operator can read.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use super::event::{AuditEvent, Outcome};

/// The most (tenant, method) pairs counted one by one; past it, further
/// tenants are counted together under `(other)`.
pub(crate) const MAX_TENANT_ENTRIES: usize = 10_000;

/// The tenant name the counts of tenants past 10,000 share.
pub(crate) const OTHER_TENANTS: &str = "(other)";

/// Running totals of the audit events, shared by every clone: per outcome,
/// per rejection reason, and per tenant × authentication method, which is
/// the migration status of a rollout (how many requests per tenant arrived
/// signed, by legacy token, or anonymously).
#[derive(Debug, Clone, Default)]
pub(crate) struct AuditCounters(Arc<Mutex<Totals>>);

#[derive(Debug, Default)]
struct Totals {
    /// Everything but the tenant counts, which live in `tenants`.
    counts: AuditCounts,
    /// One entry per (tenant, method): the count and, with `metrics`, the
    /// key of its series, built when the pair is first counted, so an event
    /// looks the pair up once and builds no label.
    tenants: HashMap<(Arc<str>, &'static str), TenantSeries>,
}

#[derive(Debug)]
struct TenantSeries {
    count: u64,
    #[cfg(feature = "metrics")]
    key: Arc<::metrics::Key>,
}

/// A copy of the totals at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditCounts {
    /// Requests the handler ran for.
    pub accepted: u64,
    /// Provider handshakes answered without the handler.
    pub handshakes: u64,
    /// Requests a check of the application's answered on the handler's
    /// behalf ([`Outcome::Answered`]).
    pub answered: u64,
    /// Requests a layer refused, or the inner service failed (those are
    /// also in [`service_errors`](Self::service_errors)).
    pub rejected: u64,
    /// Deliveries already handled, acknowledged without running the handler
    /// (also in [`by_reason`](Self::by_reason) as `duplicate`).
    pub duplicates: u64,
    /// Requests the inner service answered with `Err` instead of a response.
    pub service_errors: u64,
    /// Events a sink panicked on (the request and the other sinks were not
    /// affected).
    pub sink_panics: u64,
    /// Rejections by reason name, and answers by kind (`duplicate`,
    /// `handshake`, ...), as the metrics' `reason` label counts them.
    pub by_reason: BTreeMap<&'static str, u64>,
    /// Requests by (tenant, authentication method); `""` when there is no
    /// tenant, `"none"` when nothing authenticated the request (a request
    /// refused for its signature or token counts there, even from an
    /// allowlisted address).
    pub by_tenant_and_method: BTreeMap<(Arc<str>, &'static str), u64>,
}

impl AuditCounts {
    /// Requests from `tenant` (`""` for none) authenticated by `method`
    /// (`"signature"`, `"token (legacy)"`, `"none"`, ...).
    pub fn tenant_method(&self, tenant: &str, method: &str) -> u64 {
        self.by_tenant_and_method
            .iter()
            .filter(|((t, m), _)| &**t == tenant && *m == method)
            .map(|(_, count)| count)
            .sum()
    }
}

impl AuditCounters {
    /// Fresh counters at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// The totals now.
    pub fn snapshot(&self) -> AuditCounts {
        let totals = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let mut counts = totals.counts.clone();
        counts.by_tenant_and_method = totals
            .tenants
            .iter()
            .map(|(pair, series)| (pair.clone(), series.count))
            .collect();
        counts
    }

    pub(crate) fn record_sink_panic(&self) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .counts
            .sink_panics += 1;
        #[cfg(feature = "metrics")]
        super::metrics::record_sink_panic();
    }

    pub(crate) fn record(&self, event: &AuditEvent) {
        // One shared empty name for "no tenant": no allocation per event.
        static NO_TENANT: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from(""));
        let tenant = event
            .tenant
            .clone()
            .unwrap_or_else(|| Arc::clone(&NO_TENANT));
        let method = event.auth_method.unwrap_or("none");
        let mut totals = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let counts = &mut totals.counts;
        match event.outcome {
            Outcome::Accepted => counts.accepted += 1,
            Outcome::Rejected => counts.rejected += 1,
            Outcome::Duplicate => counts.duplicates += 1,
            Outcome::Handshake => counts.handshakes += 1,
            Outcome::Answered => counts.answered += 1,
            // Not requests: an inbox worker's events reach the sinks only
            // (`webhook_inbox_events_total` counts them).
            Outcome::Retry | Outcome::DeadLettered | Outcome::TakenOver | Outcome::HoldLost => {
                return
            }
        }
        if event.service_error {
            counts.service_errors += 1;
        }
        if let Some(label) = event.reason.map(|reason| reason.as_str()).or(event.answer) {
            *counts.by_reason.entry(label).or_default() += 1;
        }
        // Tenant names come from requests, unknown tenants included: past
        // the bound, new ones share one bucket instead of growing the map.
        let key = (tenant, method);
        let key = if totals.tenants.len() < MAX_TENANT_ENTRIES || totals.tenants.contains_key(&key)
        {
            key
        } else {
            // Shared, like the empty name: past the bound, an event
            // allocates nothing either.
            static OTHER: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from(OTHER_TENANTS));
            (Arc::clone(&OTHER), method)
        };
        let entry = totals
            .tenants
            .entry(key)
            .or_insert_with_key(|_pair| TenantSeries {
                count: 0,
                #[cfg(feature = "metrics")]
                key: super::metrics::tenant_key(Arc::clone(&_pair.0), _pair.1),
            });
        entry.count += 1;
        #[cfg(feature = "metrics")]
        let series = Arc::clone(&entry.key);
        // The exporter is called without holding the lock.
        drop(totals);
        #[cfg(feature = "metrics")]
        super::metrics::record(event, &series);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Verification;

    fn event(tenant: &str) -> AuditEvent {
        let verification = Verification {
            tenant: Some(Arc::from(tenant)),
            ..Verification::default()
        };
        AuditEvent::new(
            verification,
            401,
            http::Method::POST,
            "/".to_owned(),
            std::time::Duration::ZERO,
            false,
            false,
        )
    }

    #[test]
    fn a_flood_of_tenant_names_stays_bounded() {
        let counters = AuditCounters::new();
        for n in 0..MAX_TENANT_ENTRIES + 500 {
            counters.record(&event(&format!("tenant-{n}")));
        }
        counters.record(&event("tenant-0"));
        let counts = counters.snapshot();
        assert_eq!(counts.by_tenant_and_method.len(), MAX_TENANT_ENTRIES + 1);
        assert_eq!(counts.tenant_method(OTHER_TENANTS, "none"), 500);
        assert_eq!(counts.tenant_method("tenant-0", "none"), 2);
    }
}
