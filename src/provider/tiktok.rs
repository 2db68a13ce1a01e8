//! TikTok for Developers: `TikTok-Signature: t=<unix s>,s=<hex>`,
//! HMAC-SHA256 of `{t}.{body}` keyed with the app's client secret as text.
//! TikTok leaves the tolerated age to the receiver.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, Part, SignatureHeader};
use crate::signature::TimestampFormat;

/// tiktok's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("tiktok")
        .signature(
            SignatureHeader::new(HeaderName::from_static("tiktok-signature")).fields(',', "s"),
        )
        .timestamp_field("t", TimestampFormat::Seconds)
        .message([Part::Timestamp, Part::literal("."), Part::Body])
}

/// tiktok: what every way of building its receiver reads.
pub const TIKTOK: Provider = Provider {
    name: "tiktok",
    scheme: || Arc::new(scheme()),
    signed: "the t= timestamp and the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "developers.tiktok.com/doc/webhooks-verification (TikTok-Signature `t=…,s=…`; signed_payload = timestamp, `.`, the request body; HMAC SHA256 keyed with the client_secret)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
