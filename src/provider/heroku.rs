//! Heroku app and add-on webhooks: `Heroku-Webhook-Hmac-SHA256: <base64
//! HMAC-SHA256 of the raw body>`, keyed with the subscription's secret as
//! text.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, Encoding, SignatureHeader};

/// heroku's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("heroku").signature(
        SignatureHeader::new(HeaderName::from_static("heroku-webhook-hmac-sha256"))
            .encoding(Encoding::Base64),
    )
}

/// heroku: what every way of building its receiver reads.
pub const HEROKU: Provider = Provider {
    name: "heroku",
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
    scheme_source: "devcenter.heroku.com/articles/addon-webhooks (secret: deliveries set the HMAC-SHA256 of the body as the Heroku-Webhook-Hmac-SHA256 header); base64 as in devcenter.heroku.com/articles/app-webhooks' answers (`digest('base64')`) and ngrok/webhooks.fyi's directory",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
