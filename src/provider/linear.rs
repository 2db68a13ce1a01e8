//! Linear: `Linear-Signature: <hex>` over the raw body. Its timestamp
//! (`webhookTimestamp`, milliseconds) is inside the signed JSON body, so it
//! cannot be tampered with; checking its age is the replay layer's job.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Sent, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// Linear: HMAC-SHA256 of the raw body, hex, no prefix.
pub fn linear() -> DeclaredScheme {
    DeclaredScheme::new("linear").signature(SignatureHeader::new(HeaderName::from_static(
        "linear-signature",
    )))
}

/// linear: what every way of building its receiver reads.
pub const LINEAR: Provider = Provider {
    name: "linear",
    scheme: || Arc::new(linear()),
    signed: "the raw body (which carries webhookTimestamp)",
    unsigned_headers: &["linear-delivery", "linear-event"],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none signed (Linear-Delivery is not; webhookId names the webhook, not the delivery): the signed body's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    // Linear's SDK refuses a webhookTimestamp more than a minute away.
    body_timestamp: Some(|| {
        crate::replay::ReplayLayer::json_field("/webhookTimestamp")
            .milliseconds()
            .window(std::time::Duration::from_secs(60))
    }),
    scheme_source: "linear.app/developers/webhooks#securing-webhooks (Linear-Signature: <hex HMAC-SHA256 of the body>; webhookTimestamp within a minute)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[
        ("linear-delivery", Sent::DeliveryId),
        ("linear-event", Sent::Fixed("Issue")),
    ],
    requires: &[],
};
