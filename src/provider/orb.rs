//! Orb: `X-Orb-Signature: v1=<hex>[ v1=<hex>]`, HMAC-SHA256 of
//! `v1:{X-Orb-Timestamp}:{body}`; the timestamp is ISO 8601 without a zone,
//! read as UTC. The secret looks like base64url but is used as text.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, Part, SignatureHeader};
use crate::signature::scheme::Tolerance;
use crate::signature::TimestampFormat;

/// orb's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("orb")
        .signature(
            SignatureHeader::new(HeaderName::from_static("x-orb-signature")).list(' ', "v1="),
        )
        .timestamp_header(
            HeaderName::from_static("x-orb-timestamp"),
            TimestampFormat::Rfc3339NoOffset,
        )
        .message([
            Part::literal("v1:"),
            Part::Timestamp,
            Part::literal(":"),
            Part::Body,
        ])
        .tolerance(Tolerance::symmetric(Duration::from_secs(300)))
}

/// orb: what every way of building its receiver reads.
pub const ORB: Provider = Provider {
    name: "orb",
    scheme: || Arc::new(scheme()),
    signed: "X-Orb-Timestamp and the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "orbcorp/orb-python src/orb/resources/webhooks.py (to_sign = f\"v1:{msg_timestamp}:{body}\", secret.encode('utf-8'), 5 minutes either way)",
    vectors: Vectors::Published(&["orbcorp/orb-python tests/api_resources/test_webhooks.py"]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
