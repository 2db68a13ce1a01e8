//! twilio: see [`TWILIO`].

use std::sync::Arc;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::schemes;

/// twilio: what every way of building its receiver reads.
pub const TWILIO: Provider = Provider {
    name: "twilio",
    scheme: || Arc::new(schemes::twilio::twilio()),
    signed: "the URL Twilio called and the form parameters (or the body's SHA-256 in the URL)",
    unsigned_headers: &["i-twilio-idempotency-token"],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none signed (I-Twilio-Idempotency-Token is not): the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "www.twilio.com/docs/usage/webhooks/webhooks-security (X-Twilio-Signature: <base64 HMAC-SHA1 of the URL and sorted form parameters>)",
    vectors: Vectors::Published(&[
        "twilio/twilio-python tests/unit/test_request_validator.py",
    ]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
