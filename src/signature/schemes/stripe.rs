//! Stripe: `Stripe-Signature: t=<ts>,v1=<hex>[,v1=…][,v0=…]` over
//! `{t}.{body}`. Every `v1` is a candidate (one per active secret during a
//! roll); `v0` (a test-mode decoy) and unknown keys are ignored. The key is
//! the whole `whsec_…` string, not base64-decoded.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;

use crate::body::DEFAULT_BODY_LIMIT;
use crate::signature::declared::{DeclaredScheme, Part, SignatureHeader};
use crate::signature::scheme::Tolerance;
use crate::signature::TimestampFormat;
use crate::stack::providers::UNDOCUMENTED;
use crate::stack::Profile;

/// Stripe: HMAC-SHA256 of `{t}.{body}`, hex.
pub fn stripe() -> DeclaredScheme {
    DeclaredScheme::new("stripe")
        .signature(
            SignatureHeader::new(HeaderName::from_static("stripe-signature")).fields(',', "v1"),
        )
        .timestamp_field("t", TimestampFormat::Seconds)
        .message([Part::Timestamp, Part::literal("."), Part::Body])
        .tolerance(Tolerance::past_only(Duration::from_secs(300)))
        .delivery_id_field("/id")
        .verbatim_whsec()
}

/// What the provider bundle holds for stripe: see
/// [`Profile`].
pub const PROFILE: Profile = Profile {
    name: "stripe",
    scheme: || Arc::new(stripe()),
    signed: "the t= timestamp and the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the event id, /id in the signed body",
    handshake: None,
};
