//! Typeform: `Typeform-Signature: sha256=<base64>` over the raw body. The
//! prefix suggests hex; the value is base64.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, Encoding, SignatureHeader};

/// Typeform: HMAC-SHA256 of the raw body, base64, `sha256=` prefix.
pub fn typeform() -> DeclaredScheme {
    DeclaredScheme::new("typeform")
        .signature(
            SignatureHeader::new(HeaderName::from_static("typeform-signature"))
                .prefix("sha256=")
                .encoding(Encoding::Base64),
        )
        .delivery_id_field("/event_id")
}

/// typeform: what every way of building its receiver reads.
pub const TYPEFORM: Provider = Provider {
    name: "typeform",
    scheme: || Arc::new(typeform()),
    signed: "the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the event id, /event_id in the signed body",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "www.typeform.com/developers/webhooks/secure-your-webhooks (Typeform-Signature: sha256=<base64 HMAC-SHA256 of the body>)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
