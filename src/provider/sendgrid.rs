//! sendgrid: see [`SENDGRID`].

use std::sync::Arc;

use super::{Provider, DEFAULT_BODY_LIMIT, NO_RETRIES_DOCUMENTED, UNDOCUMENTED};
use crate::signature::schemes;

/// sendgrid: what every way of building its receiver reads.
pub const SENDGRID: Provider = Provider {
    name: "sendgrid",
    scheme: || Arc::new(schemes::sendgrid::sendgrid()),
    signed: "X-Twilio-Email-Event-Webhook-Timestamp and the raw body (ECDSA P-256)",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none (the body is a batch of events): the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
};
