//! Slack: `X-Slack-Signature: v0=<hex>` over
//! `v0:{X-Slack-Request-Timestamp}:{body}`. The signing secret looks like hex
//! but is used as text.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;

use super::{
    Provider, Sent, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::handshake::Handshake;
use crate::signature::declared::{DeclaredScheme, Part, SignatureHeader};
use crate::signature::scheme::Tolerance;
use crate::signature::TimestampFormat;

/// Slack: HMAC-SHA256 of `v0:{timestamp}:{body}`, hex, `v0=` prefix.
pub fn slack() -> DeclaredScheme {
    DeclaredScheme::new("slack")
        .signature(SignatureHeader::new(HeaderName::from_static("x-slack-signature")).prefix("v0="))
        .timestamp_header(
            HeaderName::from_static("x-slack-request-timestamp"),
            TimestampFormat::Seconds,
        )
        .message([
            Part::literal("v0:"),
            Part::Timestamp,
            Part::literal(":"),
            Part::Body,
        ])
        .tolerance(Tolerance::symmetric(Duration::from_secs(300)))
        .delivery_id_field("/event_id")
}

/// slack: what every way of building its receiver reads.
pub const SLACK: Provider = Provider {
    name: "slack",
    scheme: || Arc::new(slack()),
    signed: "X-Slack-Request-Timestamp and the raw body",
    unsigned_headers: &["x-slack-retry-num", "x-slack-retry-reason"],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the Events API event_id, /event_id in the signed body (else the body's digest)",
    handshake: Some(|_| Ok(Handshake::slack())),
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "docs.slack.dev/authentication/verifying-requests-from-slack (X-Slack-Signature: v0=<hex HMAC-SHA256 of \"v0:{ts}:{body}\">, 5 minutes)",
    vectors: Vectors::Published(&[
        "Slack docs 'Verifying requests from Slack'",
    ]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[("x-slack-retry-num", Sent::Fixed("0"))],
    requires: &[],
};
