//! stripe: see [`STRIPE`].

use std::sync::Arc;
use std::time::Duration;

use super::{Provider, DEFAULT_BODY_LIMIT, UNDOCUMENTED};
use crate::signature::schemes;

/// stripe: what every way of building its receiver reads.
pub const STRIPE: Provider = Provider {
    name: "stripe",
    scheme: || Arc::new(schemes::stripe()),
    signed: "the t= timestamp and the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the event id, /id in the signed body",
    handshake: None,
    retry_horizon: Some(Duration::from_secs(259200)),
    retry_horizon_source: "docs.stripe.com/webhooks, retry behavior: in live mode Stripe retries a delivery for up to three days with exponential backoff",
    deduplicate: true,
    body_timestamp: None,
};
