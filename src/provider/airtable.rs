//! Airtable: `X-Airtable-Content-MAC: hmac-sha256=<hex HMAC-SHA256 of the raw
//! body>`, keyed with `macSecretBase64` base64-decoded. The body is only a
//! ping; the changes are fetched with the API.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, KeyEncoding, SignatureHeader};

/// airtable's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("airtable")
        .signature(
            SignatureHeader::new(HeaderName::from_static("x-airtable-content-mac"))
                .prefix("hmac-sha256="),
        )
        .key_encoding(KeyEncoding::Base64)
}

/// airtable: what every way of building its receiver reads.
pub const AIRTABLE: Provider = Provider {
    name: "airtable",
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
    scheme_source: "gtalarico/pyairtable pyairtable/models/webhook.py WebhookNotification.from_request (a community library: base64-decoded secret, 'hmac-sha256=' + hexdigest)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
