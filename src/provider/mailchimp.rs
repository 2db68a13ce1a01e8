//! Mailchimp Transactional (Mandrill), the Mailchimp product that signs
//! its webhooks: `X-Mandrill-Signature: <base64 HMAC-SHA1>` of the webhook's
//! URL exactly as configured followed by every POST parameter, sorted by
//! name, each name then value with no delimiter; keyed with the webhook's
//! key as text. Behind a proxy, set the URL it signs with a
//! [`PublicUrl`](crate::signature::public_url::PublicUrl).

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{Algorithm, DeclaredScheme, Encoding, Part, SignatureHeader};

/// mailchimp's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("mailchimp")
        .signature(
            SignatureHeader::new(HeaderName::from_static("x-mandrill-signature"))
                .algorithm(Algorithm::Sha1)
                .encoding(Encoding::Base64),
        )
        .message([Part::Url, Part::FormParams])
}

/// mailchimp: what every way of building its receiver reads.
pub const MAILCHIMP: Provider = Provider {
    name: "mailchimp",
    scheme: || Arc::new(scheme()),
    signed: "the URL Mailchimp called and the form parameters",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "mandrill.zendesk.com/hc/en-us/articles/360039232513-How-to-Authenticate-Webhook-Requests (the webhook URL, then each POST variable's key and value sorted by key, HMAC-SHA1 with the webhook key, base64, in X-Mandrill-Signature)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
