//! Smartsheet: `Smartsheet-Hmac-SHA256: <hex HMAC-SHA256 of the raw body>`,
//! keyed with the webhook's `sharedSecret` as text. Its verification
//! request (`Smartsheet-Hook-Challenge`, on enabling and again every 100
//! callbacks) is answered by [`Handshake::smartsheet`].
//!
//! Smartsheet's docs say to format the HMAC "as a string in base 16": their
//! Java sample prints it as a number (`new BigInteger(1, rawHmac)
//! .toString(16)`), which drops leading zeros, so a digest whose hex starts
//! with `0` comes out shorter than 64 digits (63 for one leading zero);
//! their Node sample compares the 64-digit `digest("hex")`. No signed
//! example is published to settle which one the header carries, so both
//! spellings of the same digest verify: a shorter value is read as the
//! number it is, padded with zeros on the left. That accepts nothing a
//! forger could use: the value still has to equal the HMAC.

use std::sync::Arc;

use http::HeaderName;

use super::{Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, UNDOCUMENTED};
use crate::handshake::Handshake;
use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// smartsheet's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("smartsheet").signature(
        SignatureHeader::new(HeaderName::from_static("smartsheet-hmac-sha256"))
            .hex_leading_zeros_optional(64),
    )
}

/// smartsheet: what every way of building its receiver reads.
pub const SMARTSHEET: Provider = Provider {
    name: "smartsheet",
    scheme: || Arc::new(scheme()),
    signed: "the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: Some(|_| Ok(Handshake::smartsheet())),
    retry_horizon: None,
    retry_horizon_source: "smartsheet-platform/api-docs source/_webhooks.html.md.erb Retry Logic: up to 14 retries, the first 7 with exponential backoff, then every three hours (at least 21 h, the first part's length not documented): the crate's default TTL, 24 h",
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "smartsheet-platform/api-docs source/_webhooks.html.md.erb Authenticating Callbacks (HMAC SHA-256 of the sharedSecret and the request body, \"Format the calculated value as a string in base 16\", compared with Smartsheet-Hmac-SHA256; the Java sample's `new BigInteger(1, rawHmac).toString(16)` drops leading zeros, the Node sample's digest(\"hex\") keeps them) and Webhook Verification (Smartsheet-Hook-Challenge, smartsheetHookResponse)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
