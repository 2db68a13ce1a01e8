//! Checkout.com (workflow webhooks): `Cko-Signature: <hex HMAC-SHA256 of
//! the raw body>`, keyed with the signature key set on the workflow's
//! webhook action, as text.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;

use super::{Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, UNDOCUMENTED};
use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// checkout-com's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("checkout-com").signature(SignatureHeader::new(HeaderName::from_static(
        "cko-signature",
    )))
}

/// checkout-com: what every way of building its receiver reads.
pub const CHECKOUT_COM: Provider = Provider {
    name: "checkout-com",
    scheme: || Arc::new(scheme()),
    signed: "the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: None,
    // 5 + 10 + 15 + 30 min + 1 + 4 + 12 + 12 h after the first attempt.
    retry_horizon: Some(Duration::from_secs(30 * 3600)),
    retry_horizon_source: "checkout.com/docs/workflows (resent up to eight times, at 5, 10, 15 and 30 minutes, 1, 4, 12 and 12 hours after each previous attempt: 30 h)",
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "checkout.com/docs/developer-resources/webhooks/manage-webhooks/set-up-your-webhook-receiver (HMAC of the webhook body with SHA-256 and the webhook's signature key, hex-encoded in Cko-Signature; compute it on the raw body)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
