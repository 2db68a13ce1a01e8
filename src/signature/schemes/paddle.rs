//! Paddle Billing: `Paddle-Signature: ts=<ts>;h1=<hex>[;h1=…]` over
//! `{ts}:{body}`. Every `h1` is tried (the Python SDK does; the Node SDK
//! keeps only the last), unknown keys are ignored, the key is the
//! `pdl_ntfset_…` string verbatim.

use std::time::Duration;

use http::HeaderName;

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
