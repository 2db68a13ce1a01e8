//! Stripe: `Stripe-Signature: t=<ts>,v1=<hex>[,v1=…][,v0=…]` over
//! `{t}.{body}`. Every `v1` is a candidate (one per active secret during a
//! roll); `v0` (a test-mode decoy) and unknown keys are ignored. The key is
//! the whole `whsec_…` string, not base64-decoded.

use std::time::Duration;

use http::HeaderName;

use crate::signature::declared::{DeclaredScheme, Part, SignatureHeader};
use crate::signature::scheme::Tolerance;
use crate::signature::TimestampFormat;

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
