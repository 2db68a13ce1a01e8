//! github: see [`GITHUB`].

use std::sync::Arc;

use super::{Provider, MIB};
use crate::signature::schemes;

/// github: what every way of building its receiver reads.
pub const GITHUB: Provider = Provider {
    name: "github",
    scheme: || Arc::new(schemes::github()),
    signed: "the raw body",
    unsigned_headers: &[
        "x-github-event",
        "x-github-delivery",
        "x-github-hook-id",
        "x-github-hook-installation-target-id",
        "x-github-hook-installation-target-type",
    ],
    body_limit: 25 * MIB,
    body_limit_source:
        "GitHub docs, \"About webhook events and payloads\": payloads are capped at 25 MB",
    delivery_id: "none signed (X-GitHub-Delivery is not): the signed body's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: "docs.github.com/en/webhooks/using-webhooks/handling-failed-webhook-deliveries: GitHub does not redeliver failed deliveries automatically",
    deduplicate: true,
    body_timestamp: None,
};
