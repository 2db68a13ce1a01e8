//! Paddle Billing: `Paddle-Signature: ts=<ts>;h1=<hex>[;h1=…]` over
//! `{ts}:{body}`. Every `h1` is tried (the Python SDK does; the Node SDK
//! keeps only the last), unknown keys are ignored, the key is the
//! `pdl_ntfset_…` string verbatim.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;

use super::{Provider, Vectors, DEFAULT_BODY_LIMIT, UNDOCUMENTED};
use crate::signature::declared::{DeclaredScheme, Part, SignatureHeader};
use crate::signature::scheme::Tolerance;
use crate::signature::TimestampFormat;

/// Paddle: HMAC-SHA256 of `{ts}:{body}`, hex.
pub fn paddle() -> DeclaredScheme {
    DeclaredScheme::new("paddle")
        .signature(
            SignatureHeader::new(HeaderName::from_static("paddle-signature")).fields(';', "h1"),
        )
        .timestamp_field("ts", TimestampFormat::Seconds)
        .message([Part::Timestamp, Part::literal(":"), Part::Body])
        .tolerance(Tolerance::past_only(Duration::from_secs(5)))
        .delivery_id_field("/event_id")
}

/// paddle: what every way of building its receiver reads.
pub const PADDLE: Provider = Provider {
    name: "paddle",
    scheme: || Arc::new(paddle()),
    signed: "the ts= timestamp and the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the event id, /event_id in the signed body",
    handshake: None,
    retry_horizon: Some(Duration::from_secs(259200)),
    retry_horizon_source: "developer.paddle.com/webhooks/about/respond-to-webhooks: live accounts retry up to 60 times over 3 days with exponential backoff",
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "developer.paddle.com/webhooks/signature-verification (Paddle-Signature: ts=<s>;h1=<hex HMAC-SHA256 of \"{ts}:{body}\">) and the SDKs' 5 s tolerance",
    vectors: Vectors::Published(&[
        "PaddleHQ/paddle-node-sdk src/__tests__/notifications/webhooks-validator.node.test.ts",
        "PaddleHQ/paddle-python-sdk tests/Unit/Notification/test_Verifier.py",
    ]),
    ip_ranges: &["34.232.58.13", "34.195.105.136", "34.237.3.244", "35.155.119.135", "52.11.166.252", "34.212.5.7"],
    ip_ranges_source: "developer.paddle.com/webhooks/respond-to-webhooks (separate sandbox and live sets) and api.paddle.com/ips (data.ipv4_cidrs); read from agreeing third-party copies of that page: fetch the API rather than copying this list",
    sends: &[],
    requires: &[],
};
