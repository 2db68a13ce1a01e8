//! Onfido: `X-SHA2-Signature: <hex HMAC-SHA256 of the raw body>`, keyed
//! with the webhook's token as text.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// onfido's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("onfido").signature(SignatureHeader::new(HeaderName::from_static(
        "x-sha2-signature",
    )))
}

/// onfido: what every way of building its receiver reads.
pub const ONFIDO: Provider = Provider {
    name: "onfido",
    scheme: || Arc::new(scheme()),
    signed: "the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "documentation.onfido.com/api/manual-webhook-signature-verification (X-SHA2-Signature, hex HMAC-SHA256 of the raw body keyed with the webhook token) and onfido/onfido-node webhook-event-verifier.ts",
    vectors: Vectors::Published(&[
        "onfido/onfido-node test/classic-webhook-event-verifier.test.ts",
        "onfido/onfido-node test/studio-webhook-event-verifier.test.ts",
    ]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
