//! Asana: `X-Hook-Signature: <hex HMAC-SHA256 of the raw body>`, keyed with
//! the `X-Hook-Secret` Asana sent in the webhook's handshake. That key
//! arrives in the handshake itself, unsigned, so the bundle cannot answer
//! it alone: add [`Handshake::asana`](crate::handshake::Handshake::asana)
//! with a function that stores the secret only while the application's own
//! call creating the webhook is in flight. `X-Hook-Signature` is also the
//! header of unrelated providers: dispatch by route, not by header name.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// asana's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("asana").signature(SignatureHeader::new(HeaderName::from_static(
        "x-hook-signature",
    )))
}

/// asana: what every way of building its receiver reads.
pub const ASANA: Provider = Provider {
    name: "asana",
    scheme: || Arc::new(scheme()),
    signed: "the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    // Needs the application's decision on the key it hands over, not the
    // key: `Handshake::asana(accept)`.
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "developers.asana.com/docs/webhooks-guide (handshake: X-Hook-Secret, echoed in the response and kept as the key; events: X-Hook-Signature, hex HMAC-SHA256 of the body with that secret)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
