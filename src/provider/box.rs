//! Box: `box-signature-primary` and `box-signature-secondary`, one base64
//! HMAC-SHA256 per signature key, over the raw body immediately followed by
//! `box-delivery-timestamp` (RFC 3339 with offset). Both companions
//! `box-signature-version: 1` and `box-signature-algorithm: HmacSHA256` are
//! required. A receiver holding either key verifies (rotation swaps keys).
//! Box escapes non-ASCII and `/` in its JSON, so only the raw bytes verify.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, Encoding, Part, SignatureHeader};
use crate::signature::scheme::Tolerance;
use crate::signature::TimestampFormat;

/// box's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    let header = |name| {
        SignatureHeader::new(HeaderName::from_static(name))
            .encoding(Encoding::Base64)
            .requires(HeaderName::from_static("box-signature-version"), "1")
            .requires(
                HeaderName::from_static("box-signature-algorithm"),
                "HmacSHA256",
            )
    };
    DeclaredScheme::new("box")
        .signature(header("box-signature-primary"))
        .signature(header("box-signature-secondary"))
        .every_signature_header()
        .timestamp_header(
            HeaderName::from_static("box-delivery-timestamp"),
            TimestampFormat::Rfc3339,
        )
        .message([Part::Body, Part::Timestamp])
        .tolerance(Tolerance::past_only(Duration::from_secs(600)))
}

/// box: what every way of building its receiver reads.
pub const BOX: Provider = Provider {
    name: "box",
    scheme: || Arc::new(scheme()),
    signed: "the raw body and box-delivery-timestamp",
    unsigned_headers: &["box-delivery-id"],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none signed (box-delivery-id is not): the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "box/box-node-sdk src/managers/webhooks.ts (computeSignature: HMAC-SHA256 of the body then box-delivery-timestamp, base64; primary and secondary keys; MAX_MESSAGE_AGE 10 minutes, past only)",
    vectors: Vectors::Published(&["box/box-node-sdk tests/lib/managers/webhooks-test.js"]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
