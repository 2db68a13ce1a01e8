//! ConfigCat: `X-ConfigCat-Webhook-Signature-V1: <base64>[,<base64>]`, one
//! base64 HMAC-SHA256 per signing key (two while a key is rotated), over
//! `X-ConfigCat-Webhook-ID`, `X-ConfigCat-Webhook-Timestamp` (unix seconds)
//! and the raw body with nothing between them, keyed with the webhook's
//! signing key as text. ConfigCat's own proxy refuses a timestamp more than
//! 300 s old and accepts any ahead.
//!
//! The three pieces touch: the timestamp is read at its fixed width of ten
//! digits, so the id and the body cannot trade bytes with it.
//!
//! Deduplicated on `X-ConfigCat-Webhook-ID`, which the signature covers and
//! ConfigCat documents as "a unique ID for the webhook request ... different
//! for every request": the same request sent again is a duplicate, and no
//! two requests share it, so none is dropped for another's id. A retry is a
//! new request with its own id, so it runs again.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;

use super::{Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, UNDOCUMENTED};
use crate::signature::declared::{DeclaredScheme, Encoding, Part, SignatureHeader};
use crate::signature::scheme::Tolerance;
use crate::signature::TimestampFormat;

/// configcat's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("configcat")
        .signature(
            SignatureHeader::new(HeaderName::from_static("x-configcat-webhook-signature-v1"))
                .encoding(Encoding::Base64)
                .list(',', ""),
        )
        .id_header(HeaderName::from_static("x-configcat-webhook-id"))
        .timestamp_header(
            HeaderName::from_static("x-configcat-webhook-timestamp"),
            TimestampFormat::Seconds,
        )
        .message([Part::Id, Part::Timestamp, Part::Body])
        .tolerance(Tolerance::past_only(Duration::from_secs(300)))
}

/// configcat: what every way of building its receiver reads.
pub const CONFIGCAT: Provider = Provider {
    name: "configcat",
    scheme: || Arc::new(scheme()),
    signed: "X-ConfigCat-Webhook-ID, X-ConfigCat-Webhook-Timestamp and the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "X-ConfigCat-Webhook-ID (signed; unique per request, so a retry carries a new one)",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: "configcat/docs website/docs/advanced/notifications-webhooks.mdx Retries: up to 5 times, \"using variable delays\" (not documented): the crate's default TTL, 24 h",
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "configcat/configcat-proxy web/webhook/webhook.go (X-ConfigCat-Webhook-Signature-V1 split on `,`, base64 HMAC-SHA256 of webhookId + timestamp + body keyed with the signing key; X-ConfigCat-Webhook-ID, X-ConfigCat-Webhook-Timestamp) and config/config.go (DefaultWebhookSignatureValidFor 300, past only); configcat/docs website/docs/advanced/notifications-webhooks.mdx Verifying Webhook requests (X-ConfigCat-Webhook-ID \"A unique ID for the webhook request. This is different for every request.\"; content to sign `${webhookId}${timestamp}${body}`)",
    vectors: Vectors::Published(&["configcat/docs website/docs/advanced/notifications-webhooks.mdx"]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
