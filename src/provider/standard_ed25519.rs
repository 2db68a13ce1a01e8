//! standard-ed25519: see [`STANDARD_WEBHOOKS_ED25519`].

use std::sync::Arc;

use super::{Provider, Vectors, DEFAULT_BODY_LIMIT, NO_RETRIES_DOCUMENTED, UNDOCUMENTED};
use crate::signature::schemes;

/// standard-ed25519: what every way of building its receiver reads.
pub const STANDARD_WEBHOOKS_ED25519: Provider = Provider {
    name: "standard-ed25519",
    scheme: || Arc::new(schemes::standard_ed25519::standard_ed25519()),
    signed: "webhook-id, webhook-timestamp and the raw body (Ed25519, v1a)",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the signed webhook-id",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "github.com/standard-webhooks/standard-webhooks spec/standard-webhooks.md (v1a: Ed25519 over \"{id}.{ts}.{body}\", keys whpk_/whsk_)",
    vectors: Vectors::Published(&[
        "svix/svix-webhooks server/svix-server/src/worker.rs test_asymmetric_key_signing",
    ]),
    ip_ranges: &[],
    ip_ranges_source: "not applicable: a specification, not a sender",
    sends: &[],
    requires: &[],
};
