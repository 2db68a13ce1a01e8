//! typeform: see [`TYPEFORM`].

use std::sync::Arc;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::schemes;

/// typeform: what every way of building its receiver reads.
pub const TYPEFORM: Provider = Provider {
    name: "typeform",
    scheme: || Arc::new(schemes::typeform()),
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
