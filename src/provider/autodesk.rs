//! Autodesk Platform Services (APS, formerly Forge) webhooks:
//! `x-adsk-signature: sha1hash=<hex HMAC-SHA1 of the raw body>`, keyed with
//! the secret token set through `POST webhooks/v1/tokens` as text. A failed
//! callback is retried four times, the last at least 48 hours after the
//! first.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;

use super::{Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, UNDOCUMENTED};
use crate::signature::declared::{Algorithm, DeclaredScheme, SignatureHeader};

/// autodesk's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("autodesk").signature(
        SignatureHeader::new(HeaderName::from_static("x-adsk-signature"))
            .algorithm(Algorithm::Sha1)
            .prefix("sha1hash="),
    )
}

/// autodesk: what every way of building its receiver reads.
pub const AUTODESK: Provider = Provider {
    name: "autodesk",
    scheme: || Arc::new(scheme()),
    signed: "the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: None,
    retry_horizon: Some(Duration::from_secs(48 * 3600)),
    retry_horizon_source: "aps.autodesk.com/en/docs/webhooks/v1/overview/basics Callback: retried four times, the final attempt at least 48 hours after the initial one (a lower bound: no latest time is documented)",
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "aps.autodesk.com/en/docs/webhooks/v1/overview/basics Secret Token (hash signature of the payload with the token, X-Adsk-Signature); `sha1hash=<hex>` of HMAC-SHA1 over the raw body per autodesk-platform-services/aps-webhooks-signature README",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
