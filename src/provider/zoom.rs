//! Zoom: `x-zm-signature: v0=<hex>` over `v0:{x-zm-request-timestamp}:{body}`
//! (Slack's construction under other names).

use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;

use super::{Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, UNDOCUMENTED};
use crate::handshake::Handshake;
use crate::secret::Secret;
use crate::signature::declared::{DeclaredScheme, Part, SignatureHeader};
use crate::signature::TimestampFormat;

/// Zoom: HMAC-SHA256 of `v0:{timestamp}:{body}`, hex, `v0=` prefix.
pub fn zoom() -> DeclaredScheme {
    DeclaredScheme::new("zoom")
        .signature(SignatureHeader::new(HeaderName::from_static("x-zm-signature")).prefix("v0="))
        .timestamp_header(
            HeaderName::from_static("x-zm-request-timestamp"),
            TimestampFormat::Seconds,
        )
        .message([
            Part::literal("v0:"),
            Part::Timestamp,
            Part::literal(":"),
            Part::Body,
        ])
}

/// zoom: what every way of building its receiver reads.
pub const ZOOM: Provider = Provider {
    name: "zoom",
    scheme: || Arc::new(zoom()),
    signed: "x-zm-request-timestamp and the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: Some(|secret_token| Secret::new(secret_token).map(Handshake::zoom)),
    retry_horizon: Some(Duration::from_secs(5100)),
    retry_horizon_source: "devsupport.zoom.us/hc/en-us/articles/360059893812: three retries, 5, 20 and 60 minutes after the previous attempt (85 minutes in all)",
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "developers.zoom.us/docs/api/webhooks/#verify-webhook-events (x-zm-signature: v0=<hex HMAC-SHA256 of \"v0:{ts}:{body}\">)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
