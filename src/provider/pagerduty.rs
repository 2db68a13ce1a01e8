//! PagerDuty (v3 webhooks): `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>]`, one
//! per active secret, HMAC-SHA256 of the raw body. The secret looks like
//! base64 but is used as text.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// pagerduty's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("pagerduty").signature(
        SignatureHeader::new(HeaderName::from_static("x-pagerduty-signature")).list(',', "v1="),
    )
}

/// pagerduty: what every way of building its receiver reads.
pub const PAGERDUTY: Provider = Provider {
    name: "pagerduty",
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
    scheme_source: "PagerDuty/go-pagerduty webhookv3/webhookv3.go (prefix v1=, split on ',', hmac.New(sha256.New, []byte(secret)))",
    vectors: Vectors::Published(&["PagerDuty/go-pagerduty webhookv3/webhookv3_test.go"]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
