//! A tenant's policy and the resolver that finds it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::body::BoxError;
use crate::chain::CheckChain;
use crate::guard::{BodyCheck, RequestCheck};

/// What one tenant's requests must pass: its own allowlist, keyring, token,
/// replay window... as an ordered list of checks, every head check before
/// the body is read once for every body check.
#[derive(Debug, Clone, Default)]
pub struct TenantPolicy {
    pub(crate) checks: CheckChain,
}

impl TenantPolicy {
    /// A policy that accepts everything (add checks to it).
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a head-only check (IP filter, token).
    pub fn with_head_check<C: RequestCheck>(mut self, check: C) -> Self {
        self.checks = self.checks.with_head_check(check);
        self
    }

    /// Add a check that reads the body (signature, body timestamp).
    pub fn with_body_check<C: BodyCheck>(mut self, check: C) -> Self {
        self.checks = self.checks.with_body_check(check);
        self
    }

    /// Build from a ready chain.
    pub(crate) fn from_chain(checks: CheckChain) -> Self {
        Self { checks }
    }
}

/// What the resolver knows of a tenant.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum TenantLookup {
    /// The tenant has a policy of its own.
    Policy(Arc<TenantPolicy>),
    /// The tenant exists but has no policy attached yet: it keeps the
    /// layer's legacy policy (e.g. its old static token), so hardening rolls
    /// out tenant by tenant.
    Legacy,
    /// No such tenant.
    Unknown,
}

impl TenantLookup {
    /// A tenant with its own policy.
    pub fn policy(policy: TenantPolicy) -> Self {
        TenantLookup::Policy(Arc::new(policy))
    }
}

/// The future a [`TenantResolver`] returns.
pub type ResolveFuture = Pin<Box<dyn Future<Output = Result<TenantLookup, BoxError>> + Send>>;

/// Finds a tenant's policy: from configuration, a database, a secrets
/// manager. Results are cached by the layer for a short time.
///
/// Closures `Fn(String) -> impl Future<Output = Result<TenantLookup, E>>`
/// are resolvers.
pub trait TenantResolver: Send + Sync + 'static {
    /// Look `tenant` up. An error answers 503 `tenant_unavailable` and is
    /// not cached.
    fn resolve(&self, tenant: String) -> ResolveFuture;
}

impl<F, Fut, E> TenantResolver for F
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<TenantLookup, E>> + Send + 'static,
    E: Into<BoxError>,
{
    fn resolve(&self, tenant: String) -> ResolveFuture {
        let future = self(tenant);
        Box::pin(async move { future.await.map_err(Into::into) })
    }
}

/// A resolver over a fixed table, for tests and small deployments.
#[derive(Clone, Default)]
pub struct StaticTenants {
    tenants: std::collections::HashMap<String, TenantLookup>,
}

impl fmt::Debug for StaticTenants {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticTenants")
            .field("tenants", &self.tenants.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl StaticTenants {
    /// An empty table: every tenant is unknown.
    pub fn new() -> Self {
        Self::default()
    }

    /// `name` has its own policy.
    pub fn with_policy(mut self, name: impl Into<String>, policy: TenantPolicy) -> Self {
        self.tenants
            .insert(name.into(), TenantLookup::policy(policy));
        self
    }

    /// `name` exists but keeps the legacy policy.
    pub fn with_legacy(mut self, name: impl Into<String>) -> Self {
        self.tenants.insert(name.into(), TenantLookup::Legacy);
        self
    }
}

impl TenantResolver for StaticTenants {
    fn resolve(&self, tenant: String) -> ResolveFuture {
        let found = self
            .tenants
            .get(&tenant)
            .cloned()
            .unwrap_or(TenantLookup::Unknown);
        Box::pin(async move { Ok(found) })
    }
}
