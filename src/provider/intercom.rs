//! Intercom: `X-Hub-Signature: sha1=<hex>` over the raw body (HMAC-SHA1).

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{Algorithm, DeclaredScheme, SignatureHeader};

/// Intercom: HMAC-SHA1 of the raw body, hex, `sha1=` prefix.
pub fn intercom() -> DeclaredScheme {
    DeclaredScheme::new("intercom")
        .signature(
            SignatureHeader::new(HeaderName::from_static("x-hub-signature"))
                .prefix("sha1=")
                .algorithm(Algorithm::Sha1),
        )
        // The notification's id (`notif_…`), the same on every retry.
        .delivery_id_field("/id")
}

/// intercom: what every way of building its receiver reads.
pub const INTERCOM: Provider = Provider {
    name: "intercom",
    scheme: || Arc::new(intercom()),
    signed: "the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the notification id, /id in the signed body",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "developers.intercom.com/docs/references/webhooks/webhook-models#signed-notifications (X-Hub-Signature: sha1=<hex HMAC-SHA1 of the body>, key the client secret)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
