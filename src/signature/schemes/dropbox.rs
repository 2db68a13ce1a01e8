//! Dropbox: `X-Dropbox-Signature: <hex>` over the raw body, keyed with the
//! app secret.

use http::HeaderName;

use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// Dropbox: HMAC-SHA256 of the raw body, hex, no prefix.
pub fn dropbox() -> DeclaredScheme {
    DeclaredScheme::new("dropbox").signature(SignatureHeader::new(HeaderName::from_static(
        "x-dropbox-signature",
    )))
}
