//! Shopify: `X-Shopify-Hmac-Sha256: <base64>` over the raw body, keyed with
//! the app's client secret.

use http::HeaderName;

use crate::signature::declared::{DeclaredScheme, Encoding, SignatureHeader};

/// Shopify: HMAC-SHA256 of the raw body, base64, no prefix.
pub fn shopify() -> DeclaredScheme {
    DeclaredScheme::new("shopify").signature(
        SignatureHeader::new(HeaderName::from_static("x-shopify-hmac-sha256"))
            .encoding(Encoding::Base64),
    )
}
