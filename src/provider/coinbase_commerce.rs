//! Coinbase Commerce: `X-CC-Webhook-Signature: <hex HMAC-SHA256 of the raw
//! body>`, keyed with the shared secret as text.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// coinbase-commerce's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("coinbase-commerce").signature(SignatureHeader::new(
        HeaderName::from_static("x-cc-webhook-signature"),
    ))
}

/// coinbase-commerce: what every way of building its receiver reads.
pub const COINBASE_COMMERCE: Provider = Provider {
    name: "coinbase-commerce",
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
    scheme_source: "coinbase/coinbase-commerce-python coinbase_commerce/webhook.py WebhookSignature.verify_sig_header",
    vectors: Vectors::Published(&["coinbase/coinbase-commerce-python tests/test_webhook.py"]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
