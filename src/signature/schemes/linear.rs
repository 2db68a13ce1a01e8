//! Linear: `Linear-Signature: <hex>` over the raw body. Its timestamp
//! (`webhookTimestamp`, milliseconds) is inside the signed JSON body, so it
//! cannot be tampered with; checking its age is the replay layer's job.

use std::sync::Arc;

use http::HeaderName;

use crate::body::DEFAULT_BODY_LIMIT;
use crate::signature::declared::{DeclaredScheme, SignatureHeader};
use crate::stack::providers::UNDOCUMENTED;
use crate::stack::Profile;

/// Linear: HMAC-SHA256 of the raw body, hex, no prefix.
pub fn linear() -> DeclaredScheme {
    DeclaredScheme::new("linear").signature(SignatureHeader::new(HeaderName::from_static(
        "linear-signature",
    )))
}

/// What the provider bundle holds for linear: see
/// [`Profile`].
pub const PROFILE: Profile = Profile {
    name: "linear",
    scheme: || Arc::new(linear()),
    signed: "the raw body (which carries webhookTimestamp)",
    unsigned_headers: &["linear-delivery", "linear-event"],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none signed (Linear-Delivery is not; webhookId names the webhook, not the delivery): the signed body's digest",
    handshake: None,
};
