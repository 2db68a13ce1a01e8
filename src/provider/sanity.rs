//! Sanity: `sanity-webhook-signature: t=<unix ms>,v1=<base64url, no
//! padding>`, HMAC-SHA256 of `{t}.{body}` keyed with the secret as text.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, Encoding, Part, SignatureHeader};
use crate::signature::TimestampFormat;

/// sanity's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("sanity")
        .signature(
            SignatureHeader::new(HeaderName::from_static("sanity-webhook-signature"))
                .encoding(Encoding::Base64UrlNoPad)
                .fields(',', "v1"),
        )
        .timestamp_field("t", TimestampFormat::Millis)
        .message([Part::Timestamp, Part::literal("."), Part::Body])
}

/// sanity: what every way of building its receiver reads.
pub const SANITY: Provider = Provider {
    name: "sanity",
    scheme: || Arc::new(scheme()),
    signed: "the t= timestamp (ms) and the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "sanity-io/webhook-toolkit src/signature.ts (SIGNATURE_HEADER_NAME, `t=${timestamp},v1=${signature}`, base64url without padding, millisecond timestamp)",
    vectors: Vectors::Published(&["sanity-io/webhook-toolkit test/signature.test.ts"]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
