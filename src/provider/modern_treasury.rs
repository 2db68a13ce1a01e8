//! Modern Treasury: `X-Signature: <hex HMAC-SHA256 of the raw body>`, keyed
//! with the organization's webhook key as text.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// modern-treasury's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("modern-treasury")
        .signature(SignatureHeader::new(HeaderName::from_static("x-signature")))
}

/// modern-treasury: what every way of building its receiver reads.
pub const MODERN_TREASURY: Provider = Provider {
    name: "modern-treasury",
    scheme: || Arc::new(scheme()),
    signed: "the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "Modern-Treasury/modern-treasury-python src/modern_treasury/resources/webhooks.py get_signature / validate_signature",
    vectors: Vectors::Published(&["Modern-Treasury/modern-treasury-python tests/api_resources/test_webhooks.py"]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
