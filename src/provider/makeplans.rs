//! Makeplans: `X-MakePlans-Signature: sha256=<hex HMAC-SHA256 of the raw
//! body>`, keyed with the account's secret as text. The signed body carries
//! `idempotency_id`, unique per webhook: the delivery id.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// makeplans's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("makeplans")
        .signature(
            SignatureHeader::new(HeaderName::from_static("x-makeplans-signature"))
                .prefix("sha256="),
        )
        .delivery_id_field("/idempotency_id")
}

/// makeplans: what every way of building its receiver reads.
pub const MAKEPLANS: Provider = Provider {
    name: "makeplans",
    scheme: || Arc::new(scheme()),
    signed: "the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the signed body's idempotency_id",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "developer.makeplans.com/guide/webhooks (Verify payload signature: X-MakePlans-Signature, HMAC SHA-256 of the request body with the account secret, e.g. `sha256=5257…`; Payload: idempotency_id, unique id for this webhook) and makeplans/makeplans-api _guides/webhooks.md",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
