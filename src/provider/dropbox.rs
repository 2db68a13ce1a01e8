//! Dropbox: `X-Dropbox-Signature: <hex>` over the raw body, keyed with the
//! app secret.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::handshake::Handshake;
use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// Dropbox: HMAC-SHA256 of the raw body, hex, no prefix.
pub fn dropbox() -> DeclaredScheme {
    DeclaredScheme::new("dropbox").signature(SignatureHeader::new(HeaderName::from_static(
        "x-dropbox-signature",
    )))
}

/// dropbox: what every way of building its receiver reads.
pub const DROPBOX: Provider = Provider {
    name: "dropbox",
    scheme: || Arc::new(dropbox()),
    signed: "the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id:
        "none: notifications carry no id and identical bodies are normal, so no idempotency",
    handshake: Some(|_| Ok(Handshake::dropbox())),
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: false,
    body_timestamp: None,
    scheme_source: "www.dropbox.com/developers/reference/webhooks (X-Dropbox-Signature: <hex HMAC-SHA256 of the body>, key the app secret)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
