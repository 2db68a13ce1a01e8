//! mailgun: see [`MAILGUN`].

use std::sync::Arc;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::schemes;

/// mailgun: what every way of building its receiver reads.
pub const MAILGUN: Provider = Provider {
    name: "mailgun",
    scheme: || Arc::new(schemes::mailgun::mailgun()),
    signed: "signature.timestamp and signature.token only: the event data is NOT signed",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the signed token (single use)",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "documentation.mailgun.com/docs/mailgun/user-manual/tracking-messages/#securing-webhooks (HMAC-SHA256 hex of \"{timestamp}{token}\", in the body)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
