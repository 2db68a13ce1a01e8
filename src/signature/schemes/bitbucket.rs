//! Bitbucket Cloud (and Data Center): `X-Hub-Signature: sha256=<hex>` over
//! the raw body. The header name is GitHub's legacy SHA-1 one; the prefix
//! tells them apart.

use std::sync::Arc;

use http::HeaderName;

use crate::signature::declared::{DeclaredScheme, SignatureHeader};
use crate::stack::Profile;

/// Bitbucket: HMAC-SHA256 of the raw body, hex, `sha256=` prefix.
pub fn bitbucket() -> DeclaredScheme {
    DeclaredScheme::new("bitbucket").signature(
        SignatureHeader::new(HeaderName::from_static("x-hub-signature")).prefix("sha256="),
    )
}

/// What the provider bundle holds for bitbucket: see
/// [`Profile`].
pub const PROFILE: Profile = Profile {
    name: "bitbucket",
    scheme: || Arc::new(bitbucket()),
    signed: "the raw body",
    unsigned_headers: &[
        "x-event-key",
        "x-request-uuid",
        "x-hook-uuid",
        "x-attempt-number",
    ],
    body_limit: 256 * 1024,
    body_limit_source: "Atlassian BCLOUD-22312: payloads over 256 KB are not delivered",
    delivery_id: "none signed (X-Request-UUID is not): the signed body's digest",
    handshake: None,
};
