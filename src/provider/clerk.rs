//! Clerk: Svix's scheme (Standard Webhooks v1 under `svix-id`,
//! `svix-timestamp`, `svix-signature`), `whsec_…` secret.

use std::sync::Arc;

use super::standard::with_names;
use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::DeclaredScheme;

/// clerk's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    with_names("clerk", "svix-id", "svix-timestamp", "svix-signature")
}

/// clerk: what every way of building its receiver reads.
pub const CLERK: Provider = Provider {
    name: "clerk",
    scheme: || Arc::new(scheme()),
    signed: "svix-id, svix-timestamp and the raw body (Standard Webhooks v1)",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the signed svix-id",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "clerk/javascript packages/backend/src/webhooks.ts (svix-id, svix-timestamp, svix-signature, verified with the svix library)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
