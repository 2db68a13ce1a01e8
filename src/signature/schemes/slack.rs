//! Slack: `X-Slack-Signature: v0=<hex>` over
//! `v0:{X-Slack-Request-Timestamp}:{body}`. The signing secret looks like hex
//! but is used as text.

use std::time::Duration;

use http::HeaderName;

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
