//! Twitch EventSub: `Twitch-Eventsub-Message-Signature: sha256=<hex>` over
//! `{Message-Id}{Message-Timestamp}{body}` with no separators; the timestamp
//! is RFC 3339 with up to nanoseconds, signed exactly as sent.

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

/// twitch: what every way of building its receiver reads.
pub const TWITCH: Provider = Provider {
    name: "twitch",
    scheme: || Arc::new(twitch()),
    signed: "Twitch-Eventsub-Message-Id, -Message-Timestamp and the raw body",
    unsigned_headers: &[
        "twitch-eventsub-message-type",
        "twitch-eventsub-message-retry",
        "twitch-eventsub-subscription-type",
        "twitch-eventsub-subscription-version",
    ],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the signed Twitch-Eventsub-Message-Id",
    handshake: Some(|_| Ok(Handshake::twitch())),
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "dev.twitch.tv/docs/eventsub/handling-webhook-events#verifying-the-event-message (sha256=<hex HMAC-SHA256 of id, timestamp, body>; 10 minutes)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[
        ("twitch-eventsub-message-type", Sent::Fixed("notification")),
        ("twitch-eventsub-message-retry", Sent::Fixed("0")),
        ("twitch-eventsub-subscription-type", Sent::Fixed("channel.follow")),
        ("twitch-eventsub-subscription-version", Sent::Fixed("2")),
    ],
    requires: &[],
};
