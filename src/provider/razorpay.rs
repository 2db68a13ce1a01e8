//! Razorpay: `X-Razorpay-Signature: <hex HMAC-SHA256 of the raw body>`, keyed
//! with the webhook secret as text.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// razorpay's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("razorpay").signature(SignatureHeader::new(HeaderName::from_static(
        "x-razorpay-signature",
    )))
}

/// razorpay: what every way of building its receiver reads.
pub const RAZORPAY: Provider = Provider {
    name: "razorpay",
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
    scheme_source: "razorpay/razorpay-python razorpay/utility/utility.py verify_webhook_signature (hex HMAC-SHA256 of the body)",
    vectors: Vectors::Published(&["razorpay/razorpay-python tests/test_client_utility.py"]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
