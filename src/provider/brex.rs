//! Brex: Standard Webhooks headers (`Webhook-Id`, `Webhook-Timestamp`,
//! `Webhook-Signature: v1,<base64>[ v1,<base64>]`), HMAC-SHA256 of
//! `{id}.{timestamp}.{body}` keyed with a secret from `GET
//! /v1/webhooks/secrets`, base64-decoded. After a key rotation the header
//! carries two signatures, one per key.

use std::sync::Arc;

use super::standard;
use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::DeclaredScheme;

/// brex's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    standard::standard_webhooks().named("brex")
}

/// brex: what every way of building its receiver reads.
pub const BREX: Provider = Provider {
    name: "brex",
    scheme: || Arc::new(scheme()),
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
    scheme_source: "developer.brex.com/docs/webhooks (verify the signature) and its List Webhook Secrets reference (two keys and two signatures in Webhook-Signature after rotation); signed content `{webhook_id}.{webhook_timestamp}.{body}` with the base64-decoded secret as in trigger.dev/apis/brex/examples/brex-http-endpoint",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
