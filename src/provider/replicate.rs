//! Replicate: Standard Webhooks v1 (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature: v1,<base64>`), keyed with the `whsec_…` secret
//! base64-decoded.

use std::sync::Arc;

use super::standard::with_names;
use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::DeclaredScheme;

/// replicate's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    with_names(
        "replicate",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    )
}

/// replicate: what every way of building its receiver reads.
pub const REPLICATE: Provider = Provider {
    name: "replicate",
    scheme: || Arc::new(scheme()),
    signed: "webhook-id, webhook-timestamp and the raw body (Standard Webhooks v1)",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the signed webhook-id",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    // Replicate's SDK checks no timestamp window; the 5 minutes are
    // Standard Webhooks'.
    scheme_source: "replicate/replicate-javascript lib/util.js validateWebhook (webhook-id, webhook-timestamp, webhook-signature; HMAC-SHA256 of `${id}.${timestamp}.${body}` keyed with the base64 after `whsec_`; space-separated `v1,<base64>` signatures)",
    vectors: Vectors::Published(&["replicate/replicate-javascript index.test.ts"]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
