//! Meta (Facebook, Instagram, Messenger, WhatsApp): `X-Hub-Signature-256:
//! sha256=<hex>` over the raw body, keyed with the app secret. The
//! verification `GET` is a [`Handshake::meta`](crate::handshake::Handshake::meta).

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// Meta: HMAC-SHA256 of the raw body with the app secret, lowercase hex,
/// `sha256=` prefix (GitHub's construction under Meta's name).
pub fn meta() -> DeclaredScheme {
    DeclaredScheme::new("meta").signature(
        SignatureHeader::new(HeaderName::from_static("x-hub-signature-256")).prefix("sha256="),
    )
}

/// meta: what every way of building its receiver reads.
pub const META: Provider = Provider {
    name: "meta",
    scheme: || Arc::new(meta()),
    signed: "the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none: the signed body's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "developers.facebook.com/docs/graph-api/webhooks/getting-started (X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>, key the app secret)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
