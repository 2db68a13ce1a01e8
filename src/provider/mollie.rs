//! Mollie (next-generation webhooks): `X-Mollie-Signature: sha256=<hex
//! HMAC-SHA256 of the raw body>`, keyed with the webhook's signing secret
//! as text.
//!
//! Mollie's classic webhooks (a form body holding only the object's id,
//! fetched back from the API) carry no signature: this receiver refuses
//! them, so route them elsewhere.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// mollie's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("mollie").signature(
        SignatureHeader::new(HeaderName::from_static("x-mollie-signature")).prefix("sha256="),
    )
}

/// mollie: what every way of building its receiver reads.
pub const MOLLIE: Provider = Provider {
    name: "mollie",
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
    scheme_source: "mollie/mollie-api-php src/Webhooks/SignatureValidator.php (SIGNATURE_HEADER X-Mollie-Signature, SIGNATURE_PREFIX sha256=, hash_hmac('sha256', $payload, $secret)) and docs/recipes/webhooks/signature-verification.md",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
