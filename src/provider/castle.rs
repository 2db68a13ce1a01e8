//! Castle: `X-Castle-Signature: <base64 HMAC-SHA256 of the raw body>`,
//! keyed with the account's API secret as text.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, Encoding, SignatureHeader};

/// castle's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("castle").signature(
        SignatureHeader::new(HeaderName::from_static("x-castle-signature"))
            .encoding(Encoding::Base64),
    )
}

/// castle: what every way of building its receiver reads.
pub const CASTLE: Provider = Provider {
    name: "castle",
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
    scheme_source: "castle/castle-ruby lib/castle/webhooks/verify.rb (HTTP_X_CASTLE_SIGNATURE: Base64 of HMAC-SHA256 of the raw body, keyed with config.api_secret) and lib/castle/core/process_webhook.rb (the body as read)",
    vectors: Vectors::Published(&["castle/castle-ruby spec/lib/castle/webhooks/verify_spec.rb"]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
