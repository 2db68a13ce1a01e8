//! Lithic: Standard Webhooks v1 (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature`), keyed with the `whsec_…` secret base64-decoded.

use std::sync::Arc;

use super::standard::with_names;
use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::DeclaredScheme;

/// lithic's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    with_names(
        "lithic",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    )
}

/// lithic: what every way of building its receiver reads.
pub const LITHIC: Provider = Provider {
    name: "lithic",
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
    scheme_source: "lithic-com/lithic-python src/lithic/resources/webhooks.py (the standardwebhooks library; 5 minutes either way)",
    vectors: Vectors::Published(&["lithic-com/lithic-python tests/api_resources/test_webhooks.py"]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
