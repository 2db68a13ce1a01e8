//! Bitbucket Cloud (and Data Center): `X-Hub-Signature: sha256=<hex>` over
//! the raw body. The header name is GitHub's legacy SHA-1 one; the prefix
//! tells them apart.

use http::HeaderName;

use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// Bitbucket: HMAC-SHA256 of the raw body, hex, `sha256=` prefix.
pub fn bitbucket() -> DeclaredScheme {
    DeclaredScheme::new("bitbucket").signature(
        SignatureHeader::new(HeaderName::from_static("x-hub-signature")).prefix("sha256="),
    )
}
