//! WorkOS: `WorkOS-Signature: t=<unix ms>, v1=<hex>`, HMAC-SHA256 of
//! `{t}.{body}` keyed with the endpoint secret as text; three minutes, past
//! only.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, Part, SignatureHeader};
use crate::signature::scheme::Tolerance;
use crate::signature::TimestampFormat;

/// workos's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("workos")
        .signature(
            SignatureHeader::new(HeaderName::from_static("workos-signature")).fields(',', "v1"),
        )
        .timestamp_field("t", TimestampFormat::Millis)
        .message([Part::Timestamp, Part::literal("."), Part::Body])
        .tolerance(Tolerance::past_only(Duration::from_secs(180)))
}

/// workos: what every way of building its receiver reads.
pub const WORKOS: Provider = Provider {
    name: "workos",
    scheme: || Arc::new(scheme()),
    signed: "the t= timestamp (ms) and the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "workos/workos-node src/common/crypto/signature-provider.ts (split on ',' then '=', `${timestamp}.${payload}`, tolerance 180000 ms, past only); the header name from WorkOS's docs",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
