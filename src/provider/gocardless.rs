//! GoCardless: `Webhook-Signature: <hex HMAC-SHA256 of the raw body>`, keyed
//! with the endpoint's secret as text. Not Standard Webhooks, despite the
//! header's name.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// gocardless's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("gocardless").signature(SignatureHeader::new(HeaderName::from_static(
        "webhook-signature",
    )))
}

/// gocardless: what every way of building its receiver reads.
pub const GOCARDLESS: Provider = Provider {
    name: "gocardless",
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
    scheme_source: "gocardless/gocardless-pro-python gocardless_pro/webhooks.py parse (hex HMAC-SHA256 of the body) and README.rst (request.headers.get('Webhook-Signature'))",
    vectors: Vectors::Published(&["gocardless/gocardless-pro-python tests/webhooks_test.py"]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
