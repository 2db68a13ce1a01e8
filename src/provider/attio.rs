//! Attio: `Attio-Signature: <hex HMAC-SHA256 of the raw body>` (the same
//! value again as `X-Attio-Signature`), keyed with the webhook's secret as
//! text. `Idempotency-Key`, the same across retries, is not signed.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;

use super::{Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, UNDOCUMENTED};
use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// attio's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("attio")
        .signature(SignatureHeader::new(HeaderName::from_static(
            "attio-signature",
        )))
        // The legacy copy, read only when the current header is absent.
        .signature(SignatureHeader::new(HeaderName::from_static(
            "x-attio-signature",
        )))
}

/// attio: what every way of building its receiver reads.
pub const ATTIO: Provider = Provider {
    name: "attio",
    scheme: || Arc::new(scheme()),
    signed: "the raw body",
    unsigned_headers: &["idempotency-key"],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the signed message's digest (Idempotency-Key is not signed)",
    handshake: None,
    retry_horizon: Some(Duration::from_secs(3 * 86_400)),
    retry_horizon_source: "docs.attio.com/rest-api/how-to/webhooks: up to 10 retries with exponential back-off, 'over approximately 3 days in total'",
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "docs.attio.com/rest-api/how-to/webhooks#authenticating (Attio-Signature, duplicated as X-Attio-Signature; SHA256 HMAC of the request body with the webhook secret; hexadecimal)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
