//! Stripe: `Stripe-Signature: t=<ts>,v1=<hex>[,v1=…][,v0=…]` over
//! `{t}.{body}`. Every `v1` is a candidate (one per active secret during a
//! roll); `v0` (a test-mode decoy) and unknown keys are ignored. The key is
//! the whole `whsec_…` string, not base64-decoded.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;

use super::{Provider, Vectors, DEFAULT_BODY_LIMIT, UNDOCUMENTED};
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

/// stripe: what every way of building its receiver reads.
pub const STRIPE: Provider = Provider {
    name: "stripe",
    scheme: || Arc::new(stripe()),
    signed: "the t= timestamp and the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the event id, /id in the signed body",
    handshake: None,
    retry_horizon: Some(Duration::from_secs(259200)),
    retry_horizon_source: "docs.stripe.com/webhooks, retry behavior: in live mode Stripe retries a delivery for up to three days with exponential backoff",
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "docs.stripe.com/webhooks#verify-manually (Stripe-Signature: t=<s>,v1=<hex HMAC-SHA256 of \"{t}.{body}\">, key the whole whsec_ text) and stripe-node src/Webhooks.ts (300 s, past only)",
    vectors: Vectors::Unverified,
    ip_ranges: &["3.18.12.63", "3.130.192.231", "13.235.14.237", "13.235.122.149", "18.211.135.69", "35.154.171.200", "52.15.183.38", "54.88.130.119", "54.88.130.237", "54.187.174.169", "54.187.205.235", "54.187.216.72"],
    ip_ranges_source: "docs.stripe.com/ips#webhook-notifications and stripe.com/files/ips/ips_webhooks.json (seven days' notice of changes on its mailing list); these 12 were read from third-party copies of that list, and newer copies add 3.69.109.8, 3.120.168.93, 35.157.207.129: fetch the JSON rather than copying this one",
    sends: &[],
    requires: &[],
};
