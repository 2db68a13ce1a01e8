//! square: see [`SQUARE`].

use std::sync::Arc;
use std::time::Duration;

use super::{Provider, Sent, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, UNDOCUMENTED};
use crate::signature::schemes;

/// square: what every way of building its receiver reads.
pub const SQUARE: Provider = Provider {
    name: "square",
    scheme: || Arc::new(schemes::square::square()),
    signed: "the notification URL and the raw body",
    unsigned_headers: &[
        "square-environment",
        "square-initial-delivery-timestamp",
        "square-retry-number",
        "square-retry-reason",
    ],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the event id, /event_id in the signed body",
    handshake: None,
    retry_horizon: Some(Duration::from_secs(86400)),
    retry_horizon_source: "developer.squareup.com/docs/webhooks/troubleshooting: unsuccessful deliveries are retried for up to 24 hours, then discarded",
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "developer.squareup.com/docs/webhooks/step3validate (x-square-hmacsha256-signature: <base64 HMAC-SHA256 of \"{notification URL}{body}\">)",
    vectors: Vectors::Published(&[
        "square/square-python-sdk tests/integration/test_webhooks_helper.py",
    ]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[
        ("square-environment", Sent::Fixed("Sandbox")),
        ("square-retry-number", Sent::Fixed("0")),
    ],
    requires: &[],
};
