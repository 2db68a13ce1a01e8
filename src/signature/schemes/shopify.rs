//! Shopify: `X-Shopify-Hmac-Sha256: <base64>` over the raw body, keyed with
//! the app's client secret.

use std::sync::Arc;

use http::HeaderName;

use crate::body::DEFAULT_BODY_LIMIT;
use crate::signature::declared::{DeclaredScheme, Encoding, SignatureHeader};
use crate::stack::providers::UNDOCUMENTED;
use crate::stack::Profile;

/// Shopify: HMAC-SHA256 of the raw body, base64, no prefix.
pub fn shopify() -> DeclaredScheme {
    DeclaredScheme::new("shopify").signature(
        SignatureHeader::new(HeaderName::from_static("x-shopify-hmac-sha256"))
            .encoding(Encoding::Base64),
    )
}

/// What the provider bundle holds for shopify: see
/// [`Profile`].
pub const PROFILE: Profile = Profile {
    name: "shopify",
    scheme: || Arc::new(shopify()),
    signed: "the raw body",
    unsigned_headers: &[
        "x-shopify-topic",
        "x-shopify-shop-domain",
        "x-shopify-api-version",
        "x-shopify-webhook-id",
        "x-shopify-event-id",
        "x-shopify-triggered-at",
        "x-shopify-name",
    ],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none signed (X-Shopify-Webhook-Id is not): the signed body's digest",
    handshake: None,
};
