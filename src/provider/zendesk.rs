//! Zendesk: `X-Zendesk-Webhook-Signature: <base64 HMAC-SHA256>` of
//! `X-Zendesk-Webhook-Signature-Timestamp` (RFC 3339) immediately followed
//! by the raw body. The secret looks like base64 but is used as text.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, Encoding, Part, SignatureHeader};
use crate::signature::TimestampFormat;

/// zendesk's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("zendesk")
        .signature(
            SignatureHeader::new(HeaderName::from_static("x-zendesk-webhook-signature"))
                .encoding(Encoding::Base64),
        )
        .timestamp_header(
            HeaderName::from_static("x-zendesk-webhook-signature-timestamp"),
            TimestampFormat::Rfc3339,
        )
        .message([Part::Timestamp, Part::Body])
}

/// zendesk: what every way of building its receiver reads.
pub const ZENDESK: Provider = Provider {
    name: "zendesk",
    scheme: || Arc::new(scheme()),
    signed: "X-Zendesk-Webhook-Signature-Timestamp and the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "developer.zendesk.com/documentation/webhooks/verifying (as cited by third-party implementations; no signed example published)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
