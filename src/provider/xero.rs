//! Xero: `x-xero-signature: <base64 HMAC-SHA256 of the raw body>`, keyed
//! with the webhook key as text. Xero's "intent to receive" check sends
//! well and badly signed deliveries: the layer's 401 on a bad signature is
//! what it expects.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, Encoding, SignatureHeader};

/// xero's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("xero").signature(
        SignatureHeader::new(HeaderName::from_static("x-xero-signature"))
            .encoding(Encoding::Base64),
    )
}

/// xero: what every way of building its receiver reads.
pub const XERO: Provider = Provider {
    name: "xero",
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
    scheme_source: "developer.xero.com/documentation/guides/webhooks/overview (as cited by third-party implementations) and ngrok/webhooks.fyi webhook-directory.md (sha256, base64)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
