//! Zoom: `x-zm-signature: v0=<hex>` over `v0:{x-zm-request-timestamp}:{body}`
//! (Slack's construction under other names).

use std::sync::Arc;

use http::HeaderName;

use crate::body::DEFAULT_BODY_LIMIT;
use crate::handshake::Handshake;
use crate::secret::Secret;
use crate::signature::declared::{DeclaredScheme, Part, SignatureHeader};
use crate::signature::TimestampFormat;
use crate::stack::providers::UNDOCUMENTED;
use crate::stack::Profile;

/// Zoom: HMAC-SHA256 of `v0:{timestamp}:{body}`, hex, `v0=` prefix.
pub fn zoom() -> DeclaredScheme {
    DeclaredScheme::new("zoom")
        .signature(SignatureHeader::new(HeaderName::from_static("x-zm-signature")).prefix("v0="))
        .timestamp_header(
            HeaderName::from_static("x-zm-request-timestamp"),
            TimestampFormat::Seconds,
        )
        .message([
            Part::literal("v0:"),
            Part::Timestamp,
            Part::literal(":"),
            Part::Body,
        ])
}

/// What the provider bundle holds for zoom: see
/// [`Profile`].
pub const PROFILE: Profile = Profile {
    name: "zoom",
    scheme: || Arc::new(zoom()),
    signed: "x-zm-request-timestamp and the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: Some(|secret_token| Secret::new(secret_token).map(Handshake::zoom)),
};
