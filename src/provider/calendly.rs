//! Calendly: `Calendly-Webhook-Signature: t=<unix s>,v1=<hex>`, HMAC-SHA256
//! of `{t}.{body}` keyed with the signing key as text.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, Part, SignatureHeader};
use crate::signature::TimestampFormat;

/// calendly's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("calendly")
        .signature(
            SignatureHeader::new(HeaderName::from_static("calendly-webhook-signature"))
                .fields(',', "v1"),
        )
        .timestamp_field("t", TimestampFormat::Seconds)
        .message([Part::Timestamp, Part::literal("."), Part::Body])
}

/// calendly: what every way of building its receiver reads.
pub const CALENDLY: Provider = Provider {
    name: "calendly",
    scheme: || Arc::new(scheme()),
    signed: "the t= timestamp and the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "developer.calendly.com/api-docs/webhook-signatures (as cited by third-party implementations; no signed example published)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
