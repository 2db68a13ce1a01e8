//! [`TenantLookup::provider`]: a tenant of a provider gets the provider's
//! bundle as its policy. Built here, by the composer, because `tenant`
//! ranks below `stack` and may not name it.

use super::WebhookStack;
use crate::tenant::TenantLookup;

impl TenantLookup {
    /// A tenant of `provider` with its key as the provider shows it: the
    /// provider's bundle ([`WebhookStack::from_provider`]: its signature,
    /// replay window and handshake) as the tenant's policy. Idempotency is
    /// the layer inside the [`TenantLayer`](crate::tenant::TenantLayer).
    pub fn provider(
        provider: &'static crate::provider::Provider,
        shown_key: &str,
    ) -> Result<Self, crate::signature::SignatureConfigError> {
        let policy = WebhookStack::from_provider(provider, shown_key)?
            .without_idempotency()
            .into_tenant_policy()
            // A bundle without idempotency or audit is always a policy.
            .map_err(|error| {
                crate::signature::SignatureConfigError::UnknownScheme(error.to_string())
            })?;
        Ok(Self::policy(policy))
    }
}
