//! intercom: see [`INTERCOM`].

use std::sync::Arc;

use super::{Provider, DEFAULT_BODY_LIMIT, NO_RETRIES_DOCUMENTED, UNDOCUMENTED};
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
};
