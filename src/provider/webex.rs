//! Webex (Webhooks API): `X-Spark-Signature: <hex HMAC-SHA1 of the raw
//! body>`, keyed with the secret given when the webhook was registered, as
//! text. A webhook registered without a secret is unsigned: this receiver
//! refuses its deliveries.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{Algorithm, DeclaredScheme, SignatureHeader};

/// webex's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("webex").signature(
        SignatureHeader::new(HeaderName::from_static("x-spark-signature"))
            .algorithm(Algorithm::Sha1),
    )
}

/// webex: what every way of building its receiver reads.
pub const WEBEX: Provider = Provider {
    name: "webex",
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
    scheme_source: "WebexCommunity/webex-node-bot-framework lib/webhook.js (req.headers['x-spark-signature'] compared with crypto.createHmac('sha1', webhookSecret) hex digest of the body); developer.webex.com/docs/receive-and-verify-webhooks (signatures over the original request bytes)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
