//! [`TenantSecurity`]; documented in the [`tenant`](crate::tenant) module.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use crate::audit::{AuditEvent, AuditSink, MAX_TENANT_ENTRIES};
use crate::context::AuthMethod;
use crate::rejection::Reason;

/// A tenant's security status; see the [tenant module docs](crate::tenant#security-status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecurityStatus {
    /// No signed delivery verified since the policy changed: none arrived,
    /// or only the legacy token was shown.
    Pending,
    /// Deliveries verified with the current key.
    Secure,
    /// Deliveries verified only with another key: a rotation is under way.
    Configuring,
    /// Deliveries failed verification and none verified.
    Failed,
}

impl SecurityStatus {
    /// `pending`, `secure`, `configuring` or `failed`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SecurityStatus::Pending => "pending",
            SecurityStatus::Secure => "secure",
            SecurityStatus::Configuring => "configuring",
            SecurityStatus::Failed => "failed",
        }
    }
}

impl fmt::Display for SecurityStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One tenant's status and the numbers behind it, since `since`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TenantReport {
    /// The tenant.
    pub tenant: Arc<str>,
    /// The status the numbers give.
    pub status: SecurityStatus,
    /// The key id the tenant should sign with, as declared.
    pub current_key: Option<Arc<str>>,
    /// The last policy change (or the first event seen).
    pub since: SystemTime,
    /// Deliveries whose signature verified, by key id (`""` for a key
    /// without an id).
    pub verified_by_key: BTreeMap<Arc<str>, u64>,
    /// Deliveries that showed the legacy token instead of a signature.
    pub legacy_token: u64,
    /// Deliveries refused for a missing, malformed, wrong or expired
    /// signature or an invalid token.
    pub failures: u64,
}

impl TenantReport {
    /// Deliveries verified with the current key (every verified one when no
    /// current key is declared).
    pub fn verified_current(&self) -> u64 {
        match &self.current_key {
            Some(current) => self.verified_by_key.get(current).copied().unwrap_or(0),
            None => self.verified_by_key.values().sum(),
        }
    }

    /// Deliveries verified with any other key.
    pub fn verified_other(&self) -> u64 {
        self.verified_by_key.values().sum::<u64>() - self.verified_current()
    }
}

/// A write-back hook; see [`TenantSecurity::on_change`].
type ChangeHook = Arc<dyn Fn(SecurityStatus, &TenantReport) + Send + Sync>;

#[derive(Debug)]
struct Record {
    current_key: Option<Arc<str>>,
    since: SystemTime,
    verified_by_key: BTreeMap<Arc<str>, u64>,
    legacy_token: u64,
    failures: u64,
}

impl Record {
    /// The status the counts give (see the module docs' table).
    fn status(&self, failed_after: u64) -> SecurityStatus {
        let verified: u64 = self.verified_by_key.values().sum();
        let current = match &self.current_key {
            Some(current) => self.verified_by_key.get(current).copied().unwrap_or(0),
            None => verified,
        };
        if current > 0 {
            SecurityStatus::Secure
        } else if verified > 0 {
            SecurityStatus::Configuring
        } else if self.failures >= failed_after {
            SecurityStatus::Failed
        } else {
            SecurityStatus::Pending
        }
    }

    fn fresh(current_key: Option<Arc<str>>) -> Self {
        Self {
            current_key,
            since: SystemTime::now(),
            verified_by_key: BTreeMap::new(),
            legacy_token: 0,
            failures: 0,
        }
    }
}

/// Per-tenant security status from the audit trail; see the
/// [tenant module docs](crate::tenant#security-status). Clones share the counts.
#[derive(Clone)]
pub struct TenantSecurity {
    tenants: Arc<Mutex<HashMap<Arc<str>, Record>>>,
    failed_after: u64,
    on_change: Option<ChangeHook>,
}

impl Default for TenantSecurity {
    fn default() -> Self {
        Self {
            tenants: Arc::default(),
            failed_after: 1,
            on_change: None,
        }
    }
}

impl fmt::Debug for TenantSecurity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantSecurity")
            // Never waits: a hook printing this runs under the lock.
            .field("tenants", &self.tenants.try_lock().map(|t| t.len()).ok())
            .field("failed_after", &self.failed_after)
            .field("on_change", &self.on_change.is_some())
            .finish()
    }
}

impl TenantSecurity {
    /// No tenant seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Report a tenant failed only after `failures` refused deliveries with
    /// none verified since the last change (default 1; 0 counts as 1).
    /// Stray or forged requests then leave a tenant pending.
    pub fn failed_after(mut self, failures: u64) -> Self {
        self.failed_after = failures.max(1);
        self
    }

    /// Call `hook` with the previous status and the tenant's report after
    /// the change (`report.status` is the new status) each time a delivery
    /// changes a tenant's status (not on
    /// [`policy_changed`](Self::policy_changed) or
    /// [`policy_loaded`](Self::policy_loaded): the code that changes a
    /// policy writes the status it sets). Calls come in the order of the
    /// changes, under the table's lock, on the request's task: keep the hook
    /// short (hand the change to a channel that a writer task drains), and
    /// do not call this `TenantSecurity` from it (the hook is given the
    /// report).
    ///
    /// Statuses only move forward between two policy changes: pending to
    /// failed, configuring or secure; failed to configuring or secure;
    /// configuring to secure.
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use tower_webhook::tenant::TenantSecurity;
    ///
    /// let (changes, writer) = mpsc::channel();
    /// let security = TenantSecurity::new()
    ///     .failed_after(5)
    ///     .on_change(move |_previous, report| {
    ///         let _ = changes.send((report.tenant.clone(), report.status));
    ///     });
    /// # let _ = (security, writer);
    /// ```
    pub fn on_change(
        mut self,
        hook: impl Fn(SecurityStatus, &TenantReport) + Send + Sync + 'static,
    ) -> Self {
        self.on_change = Some(Arc::new(hook));
        self
    }

    /// `tenant`'s policy changed (a rotation, a new secret, signatures
    /// required): its counts restart now, and `current_key` is the key id
    /// it should sign with from now on (`None`: any verifying key).
    pub fn policy_changed(&self, tenant: &str, current_key: Option<&str>) {
        let mut tenants = self.lock();
        let record = Record::fresh(current_key.map(Arc::from));
        match tenants.get_mut(tenant) {
            Some(existing) => *existing = record,
            None => {
                tenants.insert(Arc::from(tenant), record);
            }
        }
    }

    /// A replica loaded `tenant`'s policy, whose current key id is
    /// `current_key`: a [`policy_changed`](Self::policy_changed) if that
    /// differs from the key on record (or the tenant has none), nothing
    /// otherwise. For resolvers, which load a policy on every cache miss:
    /// each replica restarts the counts when it first sees a rotated key.
    pub fn policy_loaded(&self, tenant: &str, current_key: Option<&str>) {
        // One lock for the check and the reset: two replicas' worth of
        // concurrent cache misses must not reset the counts twice.
        let mut tenants = self.lock();
        match tenants.get_mut(tenant) {
            Some(record) if record.current_key.as_deref() == current_key => {}
            Some(record) => *record = Record::fresh(current_key.map(Arc::from)),
            None => {
                tenants.insert(Arc::from(tenant), Record::fresh(current_key.map(Arc::from)));
            }
        }
    }

    /// `tenant`'s status and numbers, if it has a policy change on record
    /// or sent anything.
    pub fn report(&self, tenant: &str) -> Option<TenantReport> {
        let tenants = self.lock();
        let (name, record) = tenants.get_key_value(tenant)?;
        Some(report_of(name, record, self.failed_after))
    }

    /// Every tenant's report, by name.
    pub fn reports(&self) -> Vec<TenantReport> {
        let tenants = self.lock();
        let mut reports: Vec<_> = tenants
            .iter()
            .map(|(name, record)| report_of(name, record, self.failed_after))
            .collect();
        reports.sort_by(|a, b| a.tenant.cmp(&b.tenant));
        reports
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Arc<str>, Record>> {
        self.tenants.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn report_of(name: &Arc<str>, record: &Record, failed_after: u64) -> TenantReport {
    TenantReport {
        tenant: Arc::clone(name),
        status: record.status(failed_after),
        current_key: record.current_key.clone(),
        since: record.since,
        verified_by_key: record.verified_by_key.clone(),
        legacy_token: record.legacy_token,
        failures: record.failures,
    }
}

/// What one event says about its tenant's security.
enum Observed {
    Verified(Arc<str>),
    Legacy,
    Failed,
}

fn observe(event: &AuditEvent) -> Option<Observed> {
    if event.auth_method == Some(AuthMethod::Signature.as_str()) {
        let key = event.key_id.clone().unwrap_or_else(|| Arc::from(""));
        return Some(Observed::Verified(key));
    }
    if event.auth_method == Some(AuthMethod::LegacyToken.as_str()) {
        return Some(Observed::Legacy);
    }
    match event.reason? {
        Reason::SignatureMissing
        | Reason::SignatureMalformed
        | Reason::SignatureMismatch
        | Reason::KeyExpired
        | Reason::TokenInvalid => Some(Observed::Failed),
        _ => None,
    }
}

impl AuditSink for TenantSecurity {
    fn record(&self, event: &AuditEvent) {
        let (Some(tenant), Some(observed)) = (&event.tenant, observe(event)) else {
            return;
        };
        // A refused unknown tenant has a name but no policy to report on.
        if event.reason == Some(Reason::TenantUnknown) {
            return;
        }
        let mut tenants = self.lock();
        // Tenant names come from requests: past the bound, tenants without
        // a declared policy change are not tracked.
        if !tenants.contains_key(&**tenant) {
            if tenants.len() >= MAX_TENANT_ENTRIES {
                return;
            }
            tenants.insert(Arc::clone(tenant), Record::fresh(None));
        }
        let Some(record) = tenants.get_mut(&**tenant) else {
            return;
        };
        let before = record.status(self.failed_after);
        match observed {
            Observed::Verified(key) => *record.verified_by_key.entry(key).or_default() += 1,
            Observed::Legacy => record.legacy_token += 1,
            Observed::Failed => record.failures += 1,
        }
        if let Some(hook) = &self.on_change {
            if record.status(self.failed_after) != before {
                hook(before, &report_of(tenant, record, self.failed_after));
            }
        }
    }
}
