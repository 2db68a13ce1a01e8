//! twitch: see [`TWITCH`].

use std::sync::Arc;

use super::{
    Provider, Sent, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::handshake::Handshake;
use crate::signature::schemes;

/// twitch: what every way of building its receiver reads.
pub const TWITCH: Provider = Provider {
    name: "twitch",
    scheme: || Arc::new(schemes::twitch()),
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
