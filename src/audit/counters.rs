//! [`AuditCounters`]: totals an operator can read.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::event::{AuditEvent, Outcome};

/// Running totals of the audit events, shared by every clone: per outcome,
/// per rejection reason, and per tenant × authentication method, which is
/// the migration status of a rollout (how many requests per tenant arrived
/// signed, by legacy token, or anonymously).
#[derive(Debug, Clone, Default)]
pub struct AuditCounters(Arc<Mutex<AuditCounts>>);

/// A copy of the totals at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditCounts {
    /// Requests the handler ran for.
    pub accepted: u64,
    /// Requests a layer answered.
    pub rejected: u64,
    /// Rejections by reason name.
    pub by_reason: BTreeMap<&'static str, u64>,
    /// Requests by (tenant, authentication method); `""` when there is no
    /// tenant, `"none"` when nothing authenticated the request.
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
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn record(&self, event: &AuditEvent) {
        let tenant = event.tenant.clone().unwrap_or_else(|| Arc::from(""));
        let method = event.auth_method.unwrap_or("none");
        let mut counts = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match event.outcome {
            Outcome::Accepted => counts.accepted += 1,
            Outcome::Rejected => counts.rejected += 1,
        }
        if let Some(reason) = event.reason {
            *counts.by_reason.entry(reason.as_str()).or_default() += 1;
        }
        *counts
            .by_tenant_and_method
            .entry((tenant, method))
            .or_default() += 1;
    }
}
