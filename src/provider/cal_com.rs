//! Cal.com: `X-Cal-Signature-256: <hex HMAC-SHA256 of the raw body>`, keyed
//! with the webhook's secret as text. A webhook without a secret is sent
//! `X-Cal-Signature-256: no-secret-provided`, which is refused as
//! malformed.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// cal-com's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("cal-com").signature(SignatureHeader::new(HeaderName::from_static(
        "x-cal-signature-256",
    )))
}

/// cal-com: what every way of building its receiver reads.
pub const CAL_COM: Provider = Provider {
    name: "cal-com",
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
    scheme_source: "calcom/cal.com packages/features/webhooks/lib/sendPayload.ts createWebhookSignature (X-Cal-Signature-256: hex HMAC-SHA256 of the body keyed with the webhook secret; `no-secret-provided` without one)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
