//! Linear: `Linear-Signature: <hex>` over the raw body. Its timestamp
//! (`webhookTimestamp`, milliseconds) is inside the signed JSON body, so it
//! cannot be tampered with; checking its age is the replay layer's job.

use http::HeaderName;

use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// Linear: HMAC-SHA256 of the raw body, hex, no prefix.
pub fn linear() -> DeclaredScheme {
    DeclaredScheme::new("linear").signature(SignatureHeader::new(HeaderName::from_static(
        "linear-signature",
    )))
}
