//! Jira Cloud / Atlassian admin webhooks with a secret:
//! `X-Hub-Signature: sha256=<hex>` over the raw body (WebSub format).

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Sent, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// Jira: HMAC-SHA256 of the raw body, hex, `sha256=` prefix.
pub fn jira() -> DeclaredScheme {
    DeclaredScheme::new("jira").signature(
        SignatureHeader::new(HeaderName::from_static("x-hub-signature")).prefix("sha256="),
    )
}

/// jira: what every way of building its receiver reads.
pub const JIRA: Provider = Provider {
    name: "jira",
    scheme: || Arc::new(jira()),
    signed: "the raw body",
    unsigned_headers: &[
        "x-atlassian-webhook-identifier",
        "x-atlassian-webhook-retry",
        "x-atlassian-webhook-flow",
    ],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none signed (X-Atlassian-Webhook-Identifier is not): the signed body's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "developer.atlassian.com/cloud/jira/platform/webhooks (admin webhooks with a secret: X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[
        ("x-atlassian-webhook-identifier", Sent::DeliveryId),
        ("x-atlassian-webhook-retry", Sent::Fixed("0")),
    ],
    requires: &[],
};
