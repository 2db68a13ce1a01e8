//! Meta (Facebook, Instagram, Messenger, WhatsApp): `X-Hub-Signature-256:
//! sha256=<hex>` over the raw body, keyed with the app secret. The
//! verification `GET` is a [`Handshake::meta`](crate::handshake::Handshake::meta).

use http::HeaderName;

use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// Meta: HMAC-SHA256 of the raw body with the app secret, lowercase hex,
/// `sha256=` prefix (GitHub's construction under Meta's name).
pub fn meta() -> DeclaredScheme {
    DeclaredScheme::new("meta").signature(
        SignatureHeader::new(HeaderName::from_static("x-hub-signature-256")).prefix("sha256="),
    )
}
