//! Buildkite: `X-Buildkite-Signature: timestamp=<unix s>,signature=<hex>`,
//! HMAC-SHA256 of `{timestamp}.{body}` keyed with the webhook token as
//! text. (In token mode Buildkite sends the token in clear in
//! `X-Buildkite-Token` instead: use a token layer for that.)

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, Part, SignatureHeader};
use crate::signature::TimestampFormat;

/// buildkite's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("buildkite")
        .signature(
            SignatureHeader::new(HeaderName::from_static("x-buildkite-signature"))
                .fields(',', "signature"),
        )
        .timestamp_field("timestamp", TimestampFormat::Seconds)
        .message([Part::Timestamp, Part::literal("."), Part::Body])
}

/// buildkite: what every way of building its receiver reads.
pub const BUILDKITE: Provider = Provider {
    name: "buildkite",
    scheme: || Arc::new(scheme()),
    signed: "the timestamp= field and the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "buildkite/go-buildkite webhook.go ValidatePayload (fmt.Sprintf(\"%s.%s\", timestamp, payload), HMAC-SHA256, hex)",
    vectors: Vectors::Published(&["buildkite/go-buildkite webhook_test.go"]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
