//! Trend Micro Cloud One Conformity webhook channels:
//! `X-Conformity-Signature: <hex HMAC-SHA256 of the body>`, keyed with the
//! channel's security token as text (the token is limited to base64
//! characters but is not decoded).

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// trendmicro-conformity's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("trendmicro-conformity").signature(SignatureHeader::new(
        HeaderName::from_static("x-conformity-signature"),
    ))
}

/// trendmicro-conformity: what every way of building its receiver reads.
pub const TRENDMICRO_CONFORMITY: Provider = Provider {
    name: "trendmicro-conformity",
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
    scheme_source: "cloudone.trendmicro.com/docs/conformity/webhook-communication/ (X-Conformity-Signature: HMAC hexdigest (sha-256) of the payload with the security token)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
