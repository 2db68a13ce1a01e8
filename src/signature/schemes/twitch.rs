//! Twitch EventSub: `Twitch-Eventsub-Message-Signature: sha256=<hex>` over
//! `{Message-Id}{Message-Timestamp}{body}` with no separators; the timestamp
//! is RFC 3339 with up to nanoseconds, signed exactly as sent.

use std::time::Duration;

use http::HeaderName;

use crate::signature::declared::{DeclaredScheme, Part, SignatureHeader};
use crate::signature::scheme::Tolerance;
use crate::signature::TimestampFormat;

/// Twitch EventSub: HMAC-SHA256 of `{id}{timestamp}{body}`, hex, `sha256=`.
pub fn twitch() -> DeclaredScheme {
    DeclaredScheme::new("twitch")
        .signature(
            SignatureHeader::new(HeaderName::from_static("twitch-eventsub-message-signature"))
                .prefix("sha256="),
        )
        .id_header(HeaderName::from_static("twitch-eventsub-message-id"))
        .timestamp_header(
            HeaderName::from_static("twitch-eventsub-message-timestamp"),
            TimestampFormat::Rfc3339,
        )
        .message([Part::Id, Part::Timestamp, Part::Body])
        .tolerance(Tolerance::past_only(Duration::from_secs(600)))
}
