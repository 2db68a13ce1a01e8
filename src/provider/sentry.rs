//! Sentry integration platform: `Sentry-Hook-Signature: <hex HMAC-SHA256 of
//! the raw body>`, keyed with the integration's client secret as text.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// sentry's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("sentry").signature(SignatureHeader::new(HeaderName::from_static(
        "sentry-hook-signature",
    )))
}

/// sentry: what every way of building its receiver reads.
pub const SENTRY: Provider = Provider {
    name: "sentry",
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
    scheme_source: "docs.sentry.io/product/integrations/integration-platform/webhooks/#sentry-hook-signature (as named by webhooks.fyi) and third-party receivers",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
