//! Signal Sciences (Fastly Next-Gen WAF) generic webhooks:
//! `X-SigSci-Signature: <hex HMAC-SHA256 of the raw body>`, keyed with the
//! signing key generated for the webhook, as text.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// signal-sciences's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("signal-sciences").signature(SignatureHeader::new(HeaderName::from_static(
        "x-sigsci-signature",
    )))
}

/// signal-sciences: what every way of building its receiver reads.
pub const SIGNAL_SCIENCES: Provider = Provider {
    name: "signal-sciences",
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
    scheme_source: "docs.fastly.com/signalsciences/integrations/generic-webhooks (X-SigSci-Signature: HMAC-SHA256 hex digest of the payload with the signing key; the key can be rotated)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
