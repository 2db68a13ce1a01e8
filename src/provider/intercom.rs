//! intercom: see [`INTERCOM`].

use std::sync::Arc;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::schemes;

/// intercom: what every way of building its receiver reads.
pub const INTERCOM: Provider = Provider {
    name: "intercom",
    scheme: || Arc::new(schemes::intercom()),
    signed: "the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the notification id, /id in the signed body",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "developers.intercom.com/docs/references/webhooks/webhook-models#signed-notifications (X-Hub-Signature: sha1=<hex HMAC-SHA1 of the body>, key the client secret)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
