//! Shopify: `X-Shopify-Hmac-Sha256: <base64>` over the raw body, keyed with
//! the app's client secret.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;

use super::{Provider, Sent, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, UNDOCUMENTED};
use crate::signature::declared::{DeclaredScheme, Encoding, SignatureHeader};

/// Shopify: HMAC-SHA256 of the raw body, base64, no prefix.
pub fn shopify() -> DeclaredScheme {
    DeclaredScheme::new("shopify").signature(
        SignatureHeader::new(HeaderName::from_static("x-shopify-hmac-sha256"))
            .encoding(Encoding::Base64),
    )
}

/// shopify: what every way of building its receiver reads.
pub const SHOPIFY: Provider = Provider {
    name: "shopify",
    scheme: || Arc::new(shopify()),
    signed: "the raw body",
    unsigned_headers: &[
        "x-shopify-topic",
        "x-shopify-shop-domain",
        "x-shopify-api-version",
        "x-shopify-webhook-id",
        "x-shopify-event-id",
        "x-shopify-triggered-at",
        "x-shopify-name",
    ],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none signed (X-Shopify-Webhook-Id is not): the signed body's digest",
    handshake: None,
    retry_horizon: Some(Duration::from_secs(14400)),
    retry_horizon_source: "shopify.dev/changelog/updates-to-webhook-retry-mechanism (2024-09-10): retried 8 times over 4 hours with exponential backoff",
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "shopify.dev/docs/apps/build/webhooks/subscribe/https#step-5-verify-the-webhook (X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the body>)",
    vectors: Vectors::Published(&[
        "Shopify/shopify-app-js packages/apps/shopify-api/lib/webhooks/__tests__/validate.test.ts",
    ]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[
        ("x-shopify-topic", Sent::Fixed("orders/create")),
        ("x-shopify-webhook-id", Sent::DeliveryId),
        ("x-shopify-event-id", Sent::DeliveryId),
        ("x-shopify-shop-domain", Sent::Fixed("example.myshopify.com")),
        ("x-shopify-api-version", Sent::Fixed("2025-10")),
        ("x-shopify-triggered-at", Sent::Rfc3339Timestamp),
    ],
    requires: &[
        "x-shopify-topic",
        "x-shopify-shop-domain",
        "x-shopify-api-version",
        "x-shopify-webhook-id",
    ],
};
