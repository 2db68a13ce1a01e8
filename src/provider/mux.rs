//! Mux: `Mux-Signature: t=<unix s>,v1=<hex>[,v1=…]`, HMAC-SHA256 of
//! `{t}.{body}` keyed with the signing secret as text; five minutes, past
//! only.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, Part, SignatureHeader};
use crate::signature::scheme::Tolerance;
use crate::signature::TimestampFormat;

/// mux's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("mux")
        .signature(SignatureHeader::new(HeaderName::from_static("mux-signature")).fields(',', "v1"))
        .timestamp_field("t", TimestampFormat::Seconds)
        .message([Part::Timestamp, Part::literal("."), Part::Body])
        .tolerance(Tolerance::past_only(Duration::from_secs(300)))
}

/// mux: what every way of building its receiver reads.
pub const MUX: Provider = Provider {
    name: "mux",
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
    scheme_source: "muxinc/mux-node-sdk src/resources/webhooks/webhooks.ts verifySignature (`${timestamp}.${body}`, tolerance 300 s, past only)",
    vectors: Vectors::Published(&["muxinc/mux-node-sdk tests/api-resources/webhooks.test.ts"]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
