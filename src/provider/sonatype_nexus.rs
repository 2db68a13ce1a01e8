//! Sonatype Nexus Repository: `X-Nexus-Webhook-Signature: <hex
//! HMAC-SHA1 of the raw body>`, keyed with the capability's secret key as
//! text. `X-Nexus-Webhook-Delivery` (a UUID per event) and
//! `X-Nexus-Webhook-Id` (the event type) are not signed.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{Algorithm, DeclaredScheme, SignatureHeader};

/// sonatype-nexus's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("sonatype-nexus").signature(
        SignatureHeader::new(HeaderName::from_static("x-nexus-webhook-signature"))
            .algorithm(Algorithm::Sha1),
    )
}

/// sonatype-nexus: what every way of building its receiver reads.
pub const SONATYPE_NEXUS: Provider = Provider {
    name: "sonatype-nexus",
    scheme: || Arc::new(scheme()),
    signed: "the raw body",
    unsigned_headers: &["x-nexus-webhook-delivery", "x-nexus-webhook-id"],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none signed (X-Nexus-Webhook-Delivery is not): the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "help.sonatype.com/en/enabling-a-repository-webhook-capability.html (a sha1 HMAC of the JSON body with the shared secret key, in X-Nexus-Webhook-Signature) and help.sonatype.com/en/example-headers-and-payloads.html (hex value, X-Nexus-Webhook-Delivery, X-Nexus-Webhook-Id); books.sonatype.com webhooks-working-with-hmac (hex digest)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
