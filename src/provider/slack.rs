//! slack: see [`SLACK`].

use std::sync::Arc;

use super::{
    Provider, Sent, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::handshake::Handshake;
use crate::signature::schemes;

/// slack: what every way of building its receiver reads.
pub const SLACK: Provider = Provider {
    name: "slack",
    scheme: || Arc::new(schemes::slack()),
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
