//! Dropbox: `X-Dropbox-Signature: <hex>` over the raw body, keyed with the
//! app secret.

use std::sync::Arc;

use http::HeaderName;

use crate::body::DEFAULT_BODY_LIMIT;
use crate::handshake::Handshake;
use crate::signature::declared::{DeclaredScheme, SignatureHeader};
use crate::stack::providers::UNDOCUMENTED;
use crate::stack::Profile;

/// Dropbox: HMAC-SHA256 of the raw body, hex, no prefix.
pub fn dropbox() -> DeclaredScheme {
    DeclaredScheme::new("dropbox").signature(SignatureHeader::new(HeaderName::from_static(
        "x-dropbox-signature",
    )))
}

/// What the provider bundle holds for dropbox: see
/// [`Profile`].
pub const PROFILE: Profile = Profile {
    name: "dropbox",
    scheme: || Arc::new(dropbox()),
    signed: "the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id:
        "none: notifications carry no id and identical bodies are normal, so no idempotency",
    handshake: Some(|_| Ok(Handshake::dropbox())),
};
