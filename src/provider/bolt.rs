//! Bolt: `X-Bolt-Hmac-Sha256: <base64 HMAC-SHA256 of the raw body>`,
//! keyed with the merchant's signing secret as text.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, Encoding, SignatureHeader};

/// bolt's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("bolt").signature(
        SignatureHeader::new(HeaderName::from_static("x-bolt-hmac-sha256"))
            .encoding(Encoding::Base64),
    )
}

/// bolt: what every way of building its receiver reads.
pub const BOLT: Provider = Provider {
    name: "bolt",
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
    scheme_source: "help.bolt.com/developers/webhooks/hook-verification (X-Bolt-Hmac-Sha256: base64 of hash_hmac('sha256', payload, BOLT_SIGNING_SECRET))",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
