//! Meta (Facebook, Instagram, Messenger, WhatsApp): `X-Hub-Signature-256:
//! sha256=<hex>` over the raw body, keyed with the app secret. The
//! verification `GET` is a [`Handshake::meta`](crate::handshake::Handshake::meta).

use std::sync::Arc;

use http::HeaderName;

use crate::body::DEFAULT_BODY_LIMIT;
use crate::signature::declared::{DeclaredScheme, SignatureHeader};
use crate::stack::providers::UNDOCUMENTED;
use crate::stack::Profile;

/// Meta: HMAC-SHA256 of the raw body with the app secret, lowercase hex,
/// `sha256=` prefix (GitHub's construction under Meta's name).
pub fn meta() -> DeclaredScheme {
    DeclaredScheme::new("meta").signature(
        SignatureHeader::new(HeaderName::from_static("x-hub-signature-256")).prefix("sha256="),
    )
}

/// What the provider bundle holds for meta: see
/// [`Profile`].
pub const PROFILE: Profile = Profile {
    name: "meta",
    scheme: || Arc::new(meta()),
    signed: "the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none: the signed body's digest",
    handshake: None,
};
