//! Lemon Squeezy: `X-Signature: <hex HMAC-SHA256 of the raw body>`, keyed
//! with the signing secret chosen when the webhook was created, as text.
//! The header name is generic: other senders use it too.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// lemon-squeezy's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("lemon-squeezy")
        .signature(SignatureHeader::new(HeaderName::from_static("x-signature")))
}

/// lemon-squeezy: what every way of building its receiver reads.
pub const LEMON_SQUEEZY: Provider = Provider {
    name: "lemon-squeezy",
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
    scheme_source: "docs.lemonsqueezy.com/help/webhooks/signing-requests (X-Signature: HMAC hex digest of the payload keyed with the webhook's signing secret; the page's examples use SHA-256)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
