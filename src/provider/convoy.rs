//! Convoy (advanced signatures, the default for new endpoints):
//! `X-Convoy-Signature: t=<unix s>,v1=<hex>[,v1=…]`, HMAC-SHA256 of
//! `{t},{body}` (a comma, not a dot) keyed with the endpoint secret as text;
//! one `v1` per active secret while a secret is rolled. The SDKs refuse a
//! timestamp older than 300 s and none in the future. A project may
//! configure another header, hash (SHA-512) or encoding (base64), and an
//! endpoint the simple form (the body alone, no timestamp): build those
//! with a [`DeclaredScheme`](crate::signature::DeclaredScheme).

use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;

use super::{Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, UNDOCUMENTED};
use crate::signature::declared::{DeclaredScheme, Part, SignatureHeader};
use crate::signature::scheme::Tolerance;
use crate::signature::TimestampFormat;

/// convoy's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("convoy")
        .signature(
            SignatureHeader::new(HeaderName::from_static("x-convoy-signature")).fields(',', "v1"),
        )
        .timestamp_field("t", TimestampFormat::Seconds)
        .message([Part::Timestamp, Part::literal(","), Part::Body])
        .tolerance(Tolerance::past_only(Duration::from_secs(300)))
}

/// convoy: what every way of building its receiver reads.
pub const CONVOY: Provider = Provider {
    name: "convoy",
    scheme: || Arc::new(scheme()),
    signed: "the t= timestamp and the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: "configurable per project (default linear, 3 retries 10 s apart: frain-dev/convoy datastore/models.go DefaultRetryConfig), and a delivery can be retried by hand at any time: the crate's default TTL, 24 h",
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "frain-dev/convoy pkg/signature/signature.go ComputeHeaderValue (`{t},{payload}`, `t=…,v1=…`; one v1 per active secret), datastore/models.go GetDefaultSignatureConfig (X-Convoy-Signature, SHA256, hex) and services/create_endpoint.go (advanced signatures by default); frain-dev/convoy.js src/webhook.ts (tolerance 300 s, past only)",
    vectors: Vectors::Published(&["frain-dev/convoy pkg/signature/testdata/signature-vectors.json"]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
