//! Standard Webhooks v1 (HMAC): `webhook-signature: v1,<b64> [v1,<b64> …]`
//! over `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the base64
//! bytes after `whsec_`. GitLab's signing tokens are exactly this scheme ([`gitlab`](super::gitlab)).
//! Entries of other versions (`v1a`, `v2`) are skipped. An id holding a `.`
//! (which the spec forbids) is refused as `signature_malformed`, as the
//! message could then be cut at another `.`.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;

use super::{Provider, Vectors, DEFAULT_BODY_LIMIT, NO_RETRIES_DOCUMENTED, UNDOCUMENTED};
use crate::signature::declared::{DeclaredScheme, Encoding, KeyEncoding, Part, SignatureHeader};
use crate::signature::scheme::Tolerance;
use crate::signature::TimestampFormat;

/// Standard Webhooks `v1` under the given scheme and header names.
pub(crate) fn with_names(
    name: &'static str,
    id: &'static str,
    timestamp: &'static str,
    signature: &'static str,
) -> DeclaredScheme {
    signed_as_standard(
        DeclaredScheme::new(name)
            .signature(
                SignatureHeader::new(HeaderName::from_static(signature))
                    .encoding(Encoding::Base64)
                    .list(' ', "v1,"),
            )
            .key_encoding(KeyEncoding::Whsec),
        HeaderName::from_static(id),
        HeaderName::from_static(timestamp),
    )
}

/// What every Standard Webhooks version signs, `{id}.{timestamp}.{body}`
/// from the `id` and `timestamp` headers, and its 5-minute window, added to
/// `scheme` (which brings its signature header and keys).
pub(crate) fn signed_as_standard(
    scheme: DeclaredScheme,
    id: HeaderName,
    timestamp: HeaderName,
) -> DeclaredScheme {
    scheme
        .id_header(id)
        .timestamp_header(timestamp, TimestampFormat::Seconds)
        .message([
            Part::Id,
            Part::literal("."),
            Part::Timestamp,
            Part::literal("."),
            Part::Body,
        ])
        .tolerance(Tolerance::symmetric(Duration::from_secs(300)))
}

/// Standard Webhooks v1: `webhook-id`, `webhook-timestamp`, `webhook-signature`.
pub fn standard_webhooks() -> DeclaredScheme {
    with_names(
        "standard",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    )
}

/// standard: what every way of building its receiver reads.
pub const STANDARD_WEBHOOKS: Provider = Provider {
    name: "standard",
    scheme: || Arc::new(standard_webhooks()),
    signed: "webhook-id, webhook-timestamp and the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the signed webhook-id",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "github.com/standard-webhooks/standard-webhooks spec/standard-webhooks.md (webhook-signature: v1,<base64 HMAC-SHA256 of \"{id}.{ts}.{body}\">, key base64 after whsec_, 5 minutes)",
    vectors: Vectors::Published(&[
        "standard-webhooks/standard-webhooks libraries/*/ test files",
        "standard-webhooks libraries/rust/src/lib.rs test_sign",
    ]),
    ip_ranges: &[],
    ip_ranges_source: "not applicable: a specification, not a sender",
    sends: &[],
    requires: &[],
};
