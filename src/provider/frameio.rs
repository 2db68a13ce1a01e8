//! Frame.io: `X-Frameio-Signature: v0=<hex>`, HMAC-SHA256 of
//! `v0:{X-Frameio-Request-Timestamp}:{body}` keyed with the webhook's
//! signing secret as text; the timestamp within five minutes of local
//! time.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;

use super::{Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, UNDOCUMENTED};
use crate::signature::declared::{DeclaredScheme, Part, SignatureHeader};
use crate::signature::scheme::Tolerance;
use crate::signature::TimestampFormat;

/// frameio's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("frameio")
        .signature(
            SignatureHeader::new(HeaderName::from_static("x-frameio-signature")).prefix("v0="),
        )
        .timestamp_header(
            HeaderName::from_static("x-frameio-request-timestamp"),
            TimestampFormat::Seconds,
        )
        .message([
            Part::literal("v0:"),
            Part::Timestamp,
            Part::literal(":"),
            Part::Body,
        ])
        .tolerance(Tolerance::symmetric(Duration::from_secs(300)))
}

/// frameio: what every way of building its receiver reads.
pub const FRAMEIO: Provider = Provider {
    name: "frameio",
    scheme: || Arc::new(scheme()),
    signed: "X-Frameio-Request-Timestamp and the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: "AdobeDocs/frameio-api src/pages/guides/Webhooks/index.md Retries and Logging: five attempts, exponential back-off from 15 s (the schedule's end not documented): the crate's default TTL, 24 h",
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "AdobeDocs/frameio-api src/pages/guides/Webhooks/index.md Verifying Webhook Signatures (`v0:timestamp:body`, HMAC SHA256 hex, `v0=` prefix, within 5 minutes of local time)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
