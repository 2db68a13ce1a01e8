//! Intercom: `X-Hub-Signature: sha1=<hex>` over the raw body (HMAC-SHA1).

use std::sync::Arc;

use http::HeaderName;

use crate::body::DEFAULT_BODY_LIMIT;
use crate::signature::declared::{Algorithm, DeclaredScheme, SignatureHeader};
use crate::stack::providers::UNDOCUMENTED;
use crate::stack::Profile;

/// Intercom: HMAC-SHA1 of the raw body, hex, `sha1=` prefix.
pub fn intercom() -> DeclaredScheme {
    DeclaredScheme::new("intercom")
        .signature(
            SignatureHeader::new(HeaderName::from_static("x-hub-signature"))
                .prefix("sha1=")
                .algorithm(Algorithm::Sha1),
        )
        // The notification's id (`notif_…`), the same on every retry.
        .delivery_id_field("/id")
}

/// What the provider bundle holds for intercom: see
/// [`Profile`].
pub const PROFILE: Profile = Profile {
    name: "intercom",
    scheme: || Arc::new(intercom()),
    signed: "the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the notification id, /id in the signed body",
    handshake: None,
};
