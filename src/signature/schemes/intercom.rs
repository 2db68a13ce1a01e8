//! Intercom: `X-Hub-Signature: sha1=<hex>` over the raw body (HMAC-SHA1).

use http::HeaderName;

use crate::signature::declared::{Algorithm, DeclaredScheme, SignatureHeader};

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
