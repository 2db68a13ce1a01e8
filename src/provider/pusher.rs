//! Pusher Channels: `X-Pusher-Signature: <hex HMAC-SHA256 of the raw body>`,
//! keyed with the app secret of the key named in `X-Pusher-Key` (unsigned).

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// pusher's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("pusher").signature(SignatureHeader::new(HeaderName::from_static(
        "x-pusher-signature",
    )))
}

/// pusher: what every way of building its receiver reads.
pub const PUSHER: Provider = Provider {
    name: "pusher",
    scheme: || Arc::new(scheme()),
    signed: "the raw body",
    unsigned_headers: &["x-pusher-key"],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "pusher/pusher-http-node lib/webhook.js (x-pusher-key, x-pusher-signature) and lib/token.js (hex HMAC-SHA256)",
    vectors: Vectors::Published(&["pusher/pusher-http-node tests/integration/webhook.js"]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
