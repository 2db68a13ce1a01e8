//! Finch: the Standard Webhooks construction under `finch-event-id`,
//! `finch-timestamp` and `finch-signature`, keyed with the secret
//! base64-decoded (no `whsec_` prefix).

use std::sync::Arc;

use super::standard::with_names;
use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, KeyEncoding};

/// finch's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    with_names(
        "finch",
        "finch-event-id",
        "finch-timestamp",
        "finch-signature",
    )
    .key_encoding(KeyEncoding::Base64)
}

/// finch: what every way of building its receiver reads.
pub const FINCH: Provider = Provider {
    name: "finch",
    scheme: || Arc::new(scheme()),
    signed: "finch-event-id, finch-timestamp and the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the signed finch-event-id",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "Finch-API/finch-api-python src/finch/resources/webhooks.py (base64.b64decode(secret), f\"{msg_id}.{timestamp_str}.{body}\", 5 minutes either way)",
    vectors: Vectors::Published(&["Finch-API/finch-api-python tests/api_resources/test_webhooks.py"]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
