//! Typeform: `Typeform-Signature: sha256=<base64>` over the raw body. The
//! prefix suggests hex; the value is base64.

use http::HeaderName;

use crate::signature::declared::{DeclaredScheme, Encoding, SignatureHeader};

/// Typeform: HMAC-SHA256 of the raw body, base64, `sha256=` prefix.
pub fn typeform() -> DeclaredScheme {
    DeclaredScheme::new("typeform")
        .signature(
            SignatureHeader::new(HeaderName::from_static("typeform-signature"))
                .prefix("sha256=")
                .encoding(Encoding::Base64),
        )
        .delivery_id_field("/event_id")
}
