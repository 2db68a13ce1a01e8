//! Bitbucket Cloud (and Data Center): `X-Hub-Signature: sha256=<hex>` over
//! the raw body. The header name is GitHub's legacy SHA-1 one; the prefix
//! tells them apart.

use std::sync::Arc;

use http::HeaderName;

use super::{Provider, Sent, Vectors, NO_IP_RANGES, NO_RETRIES_DOCUMENTED};
use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// Bitbucket: HMAC-SHA256 of the raw body, hex, `sha256=` prefix.
pub fn bitbucket() -> DeclaredScheme {
    DeclaredScheme::new("bitbucket").signature(
        SignatureHeader::new(HeaderName::from_static("x-hub-signature")).prefix("sha256="),
    )
}

/// bitbucket: what every way of building its receiver reads.
pub const BITBUCKET: Provider = Provider {
    name: "bitbucket",
    scheme: || Arc::new(bitbucket()),
    signed: "the raw body",
    unsigned_headers: &[
        "x-event-key",
        "x-request-uuid",
        "x-hook-uuid",
        "x-attempt-number",
    ],
    body_limit: 256 * 1024,
    body_limit_source: "Atlassian BCLOUD-22312: payloads over 256 KB are not delivered",
    delivery_id: "none signed (X-Request-UUID is not): the signed body's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "support.atlassian.com/bitbucket-cloud/docs/manage-webhooks (X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[
        ("x-event-key", Sent::Fixed("repo:push")),
        ("x-request-uuid", Sent::DeliveryId),
        ("x-attempt-number", Sent::Fixed("1")),
    ],
    requires: &[],
};
