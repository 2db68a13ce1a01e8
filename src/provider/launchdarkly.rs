//! LaunchDarkly: `X-LD-Signature: <hex HMAC-SHA256 of the raw body>`,
//! keyed with the webhook's secret as text. It retries a failed delivery
//! once.

use std::sync::Arc;

use http::HeaderName;

use super::{Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, UNDOCUMENTED};
use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// launchdarkly's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("launchdarkly").signature(SignatureHeader::new(HeaderName::from_static(
        "x-ld-signature",
    )))
}

/// launchdarkly: what every way of building its receiver reads.
pub const LAUNCHDARKLY: Provider = Provider {
    name: "launchdarkly",
    scheme: || Arc::new(scheme()),
    signed: "the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: "docs.launchdarkly.com/home/connecting/webhooks: a non-2xx answer is retried once, after a delay not documented: the crate's default TTL, 24 h",
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "docs.launchdarkly.com/home/connecting/webhooks#sign-a-webhook (X-LD-Signature: HMAC SHA256 hex digest of the webhook payload, using the secret as the key)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
