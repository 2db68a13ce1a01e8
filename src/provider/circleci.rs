//! CircleCI outbound webhooks: `circleci-signature: v1=<hex>[,…]`,
//! HMAC-SHA256 of the raw body keyed with the webhook's secret token as
//! text. Only the `v1` entry is read; `circleci-event-type` is not
//! signed.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// circleci's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("circleci").signature(
        SignatureHeader::new(HeaderName::from_static("circleci-signature")).fields(',', "v1"),
    )
}

/// circleci: what every way of building its receiver reads.
pub const CIRCLECI: Provider = Provider {
    name: "circleci",
    scheme: || Arc::new(scheme()),
    signed: "the raw body",
    unsigned_headers: &["circleci-event-type"],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "CircleCI blog webhooks tutorial (circleci-signature: v1=<HMAC SHA256 digest of the request body>, `digest('hex')`; sample app CircleCI-Public/webhooks-consumer-sample) and discuss.circleci.com/t/circleci-webhook-secret-token-decryption-or-validation/40979 (CircleCI: only the v1 signature, HMAC-SHA256 of the request body with the signing secret)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
