//! standard: see [`STANDARD_WEBHOOKS`].

use std::sync::Arc;

use super::{Provider, Vectors, DEFAULT_BODY_LIMIT, NO_RETRIES_DOCUMENTED, UNDOCUMENTED};
use crate::signature::schemes;

/// standard: what every way of building its receiver reads.
pub const STANDARD_WEBHOOKS: Provider = Provider {
    name: "standard",
    scheme: || Arc::new(schemes::standard_webhooks()),
    signed: "webhook-id, webhook-timestamp and the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the signed webhook-id",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "github.com/standard-webhooks/standard-webhooks spec/standard-webhooks.md (webhook-signature: v1,<base64 HMAC-SHA256 of \"{id}.{ts}.{body}\">, key base64 after whsec_, 5 minutes)",
    vectors: Vectors::Published(&[
        "standard-webhooks/standard-webhooks libraries/*/ test files",
        "standard-webhooks libraries/rust/src/lib.rs test_sign",
    ]),
    ip_ranges: &[],
    ip_ranges_source: "not applicable: a specification, not a sender",
    sends: &[],
    requires: &[],
};
