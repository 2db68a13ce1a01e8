//! Microsoft Teams outgoing webhooks: `Authorization: HMAC <base64 HMAC-SHA256
//! of the raw body>`, keyed with the security token base64-decoded.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, Encoding, KeyEncoding, SignatureHeader};

/// microsoft-teams's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("microsoft-teams")
        .signature(
            SignatureHeader::new(HeaderName::from_static("authorization"))
                .encoding(Encoding::Base64)
                .prefix("HMAC "),
        )
        .key_encoding(KeyEncoding::Base64)
}

/// microsoft-teams: what every way of building its receiver reads.
pub const MICROSOFT_TEAMS: Provider = Provider {
    name: "microsoft-teams",
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
    scheme_source: "OfficeDev/msteams-samples-outgoing-webhook-nodejs app.js ('HMAC ' + base64 HMAC-SHA256 of the body, key Buffer(sharedSecret, 'base64'))",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
