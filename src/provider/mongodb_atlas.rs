//! MongoDB Atlas alert webhooks: `X-MMS-Signature: <base64 HMAC-SHA1 of
//! the raw body>`, keyed with the integration's webhook secret as text.
//! `X-MMS-Event` (the alert state) is not signed.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{Algorithm, DeclaredScheme, Encoding, SignatureHeader};

/// mongodb-atlas's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("mongodb-atlas").signature(
        SignatureHeader::new(HeaderName::from_static("x-mms-signature"))
            .algorithm(Algorithm::Sha1)
            .encoding(Encoding::Base64),
    )
}

/// mongodb-atlas: what every way of building its receiver reads.
pub const MONGODB_ATLAS: Provider = Provider {
    name: "mongodb-atlas",
    scheme: || Arc::new(scheme()),
    signed: "the raw body",
    unsigned_headers: &["x-mms-event"],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "www.mongodb.com/docs/atlas/tutorial/webhook-integration/ Request Headers (X-MMS-Signature: the Base64-encoded HMAC-SHA-1 signature of the request body, made with the Webhook Secret; X-MMS-Event)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
