//! Segment (Webhooks (Actions) destination): `X-Signature: <hex HMAC-SHA1
//! of the JSON body>`, keyed with the destination's shared secret as text.
//!
//! With batching on, Segment signs only the first event of the batch, not
//! the body it sends: the signature then covers nothing a receiver could
//! check, and this receiver refuses such deliveries. Turn batching off.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{Algorithm, DeclaredScheme, SignatureHeader};

/// segment's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("segment").signature(
        SignatureHeader::new(HeaderName::from_static("x-signature")).algorithm(Algorithm::Sha1),
    )
}

/// segment: what every way of building its receiver reads.
pub const SEGMENT: Provider = Provider {
    name: "segment",
    scheme: || Arc::new(scheme()),
    signed: "the raw body (unbatched deliveries)",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "segmentio/action-destinations packages/destination-actions/src/destinations/webhook/index.ts extendRequest (X-Signature: createHmac('sha1', sharedSecret).update(JSON.stringify(payload.data)).digest('hex')); batched requests sign the first event only (__test__/webhook.test.ts, 'supports request signing with batched events')",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
