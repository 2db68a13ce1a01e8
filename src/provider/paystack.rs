//! Paystack: `x-paystack-signature: <hex HMAC-SHA512 of the raw body>`,
//! keyed with the account's secret key (`sk_…`) as text.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{Algorithm, DeclaredScheme, SignatureHeader};

/// paystack's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("paystack").signature(
        SignatureHeader::new(HeaderName::from_static("x-paystack-signature"))
            .algorithm(Algorithm::Sha512),
    )
}

/// paystack: what every way of building its receiver reads.
pub const PAYSTACK: Provider = Provider {
    name: "paystack",
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
    scheme_source: "PaystackOSS/doc-code-snippets src/doc/payments/webhooks/verifying-transaction/index.js (x-paystack-signature: hex HMAC-SHA512 keyed with the secret key)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
