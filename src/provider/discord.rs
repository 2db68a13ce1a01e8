//! discord: see [`DISCORD`].

use std::sync::Arc;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::handshake::Handshake;
use crate::signature::schemes;

/// discord: what every way of building its receiver reads.
pub const DISCORD: Provider = Provider {
    name: "discord",
    scheme: || Arc::new(schemes::discord::discord()),
    signed: "X-Signature-Timestamp and the raw body (Ed25519)",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the interaction id, /id in the signed body",
    handshake: Some(|_| Ok(Handshake::discord())),
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "discord.com/developers/docs/interactions/overview#setting-up-an-endpoint-validating-security-request-headers (Ed25519 over \"{X-Signature-Timestamp}{body}\", the application's public key)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
