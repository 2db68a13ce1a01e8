//! DocuSign Connect (HMAC): `X-DocuSign-Signature-1: <base64 HMAC-SHA256
//! of the raw body>`, one header per active Connect HMAC key
//! (`X-DocuSign-Signature-2` for the second), each keyed with the key as
//! text (it looks like base64 but is not decoded). The first two headers
//! are read; a key matching a signature in either verifies.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, Encoding, SignatureHeader};

/// docusign's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    let header =
        |name| SignatureHeader::new(HeaderName::from_static(name)).encoding(Encoding::Base64);
    DeclaredScheme::new("docusign")
        .signature(header("x-docusign-signature-1"))
        .signature(header("x-docusign-signature-2"))
        .every_signature_header()
}

/// docusign: what every way of building its receiver reads.
pub const DOCUSIGN: Provider = Provider {
    name: "docusign",
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
    scheme_source: "docusign/code-examples-python app/connect/examples/eg001_validate_webhook_message.py and connect_test.py (base64 HMAC-SHA256 of the payload, key `str.encode(secret)`); www.docusign.com/blog/developers/manually-authenticating-hmac-signatures-docusign-connect-webhook-configurations (X-DocuSign-Signature-1, base64); one header per key as in developers.docusign.com/platform/webhooks/connect/hmac",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
