//! hubspot-v3: see [`HUBSPOT`].

use std::sync::Arc;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::schemes;

/// hubspot-v3: what every way of building its receiver reads.
pub const HUBSPOT: Provider = Provider {
    name: "hubspot-v3",
    scheme: || Arc::new(schemes::hubspot::hubspot_v3()),
    signed: "the method, URL, raw body and X-HubSpot-Request-Timestamp",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none (the body is a batch of events): the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "developers.hubspot.com/docs/api/webhooks/validating-requests (X-HubSpot-Signature-v3: <base64 HMAC-SHA256 of method, URI, body, timestamp>; 5 minutes)",
    vectors: Vectors::Published(&[
        "HubSpot/hubspot-api-python tests/spec/utils/test_signature.py",
    ]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
