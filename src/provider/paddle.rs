//! paddle: see [`PADDLE`].

use std::sync::Arc;
use std::time::Duration;

use super::{Provider, DEFAULT_BODY_LIMIT, UNDOCUMENTED};
use crate::signature::schemes;

/// paddle: what every way of building its receiver reads.
pub const PADDLE: Provider = Provider {
    name: "paddle",
    scheme: || Arc::new(schemes::paddle()),
    signed: "the ts= timestamp and the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the event id, /event_id in the signed body",
    handshake: None,
    retry_horizon: Some(Duration::from_secs(259200)),
    retry_horizon_source: "developer.paddle.com/webhooks/about/respond-to-webhooks: live accounts retry up to 60 times over 3 days with exponential backoff",
    deduplicate: true,
    body_timestamp: None,
};
