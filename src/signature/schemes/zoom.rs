//! Zoom: `x-zm-signature: v0=<hex>` over `v0:{x-zm-request-timestamp}:{body}`
//! (Slack's construction under other names).

use http::HeaderName;

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
