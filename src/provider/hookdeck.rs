//! Hookdeck Event Gateway (what it forwards to a destination):
//! `X-Hookdeck-Signature: <base64 HMAC-SHA256 of the raw body>`, keyed with
//! the project's signing secret as text; while a rolled secret is still
//! valid, `X-Hookdeck-Signature-2` carries the signature with the previous
//! one. A key matching either verifies. `X-Hookdeck-Eventid` (the same on
//! every attempt) is not signed.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, Encoding, SignatureHeader};

/// hookdeck's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    let header =
        |name| SignatureHeader::new(HeaderName::from_static(name)).encoding(Encoding::Base64);
    DeclaredScheme::new("hookdeck")
        .signature(header("x-hookdeck-signature"))
        .signature(header("x-hookdeck-signature-2"))
        .every_signature_header()
}

/// hookdeck: what every way of building its receiver reads.
pub const HOOKDECK: Provider = Provider {
    name: "hookdeck",
    scheme: || Arc::new(scheme()),
    signed: "the raw body",
    unsigned_headers: &["x-hookdeck-eventid", "x-hookdeck-attempt-count"],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none signed (X-Hookdeck-Eventid is not): the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "hookdeck.com/docs/authentication (destinations: HMAC SHA-256 signature with the project secret); hookdeck/webhook-skills skills/hookdeck-event-gateway-webhooks/SKILL.md (x-hookdeck-signature, base64 of HMAC-SHA256 of the raw body; X-Hookdeck-Signature-2 for the previous secret)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
