//! FastSpring server webhooks: `X-FS-Signature: <base64 HMAC-SHA256 of
//! the raw body>`, keyed with the webhook's HMAC SHA256 Secret as text. A
//! post may carry several events; automatic retries keep their ids.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, Encoding, SignatureHeader};

/// fastspring's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("fastspring").signature(
        SignatureHeader::new(HeaderName::from_static("x-fs-signature")).encoding(Encoding::Base64),
    )
}

/// fastspring: what every way of building its receiver reads.
pub const FASTSPRING: Provider = Provider {
    name: "fastspring",
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
    scheme_source: "developer.fastspring.com/docs/message-security (HMAC SHA256 digest of each payload, base64, in X-FS-Signature)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
