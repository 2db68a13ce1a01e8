//! Typeform: `Typeform-Signature: sha256=<base64>` over the raw body. The
//! prefix suggests hex; the value is base64.

use std::sync::Arc;

use http::HeaderName;

use crate::body::DEFAULT_BODY_LIMIT;
use crate::signature::declared::{DeclaredScheme, Encoding, SignatureHeader};
use crate::stack::providers::UNDOCUMENTED;
use crate::stack::Profile;

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

/// What the provider bundle holds for typeform: see
/// [`Profile`].
pub const PROFILE: Profile = Profile {
    name: "typeform",
    scheme: || Arc::new(typeform()),
    signed: "the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the event id, /event_id in the signed body",
    handshake: None,
};
