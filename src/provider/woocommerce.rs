//! WooCommerce: `X-WC-Webhook-Signature: <base64 HMAC-SHA256 of the raw
//! body>`, keyed with the webhook's secret as text. The delivery id, topic
//! and source travel in headers the signature does not cover.
//!
//! When a webhook is saved, WooCommerce first posts a ping
//! (`webhook_id=<n>`, form-encoded) without a signature; this receiver
//! refuses it (`401`, `signature_missing`) like any unsigned request, and
//! WooCommerce reports the non-`200` answer as an error
//! (`WC_Webhook::deliver_ping`).

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, Encoding, SignatureHeader};

/// woocommerce's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("woocommerce").signature(
        SignatureHeader::new(HeaderName::from_static("x-wc-webhook-signature"))
            .encoding(Encoding::Base64),
    )
}

/// woocommerce: what every way of building its receiver reads.
pub const WOOCOMMERCE: Provider = Provider {
    name: "woocommerce",
    scheme: || Arc::new(scheme()),
    signed: "the raw body",
    unsigned_headers: &[
        "x-wc-webhook-delivery-id",
        "x-wc-webhook-id",
        "x-wc-webhook-topic",
        "x-wc-webhook-resource",
        "x-wc-webhook-event",
        "x-wc-webhook-source",
    ],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the signed message's digest (X-WC-Webhook-Delivery-ID is not signed)",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "woocommerce/woocommerce plugins/woocommerce/includes/class-wc-webhook.php generate_signature (base64_encode(hash_hmac('sha256', $payload, secret, true)), sent as X-WC-Webhook-Signature with X-WC-Webhook-Source, -Topic, -Resource, -Event, -ID and -Delivery-ID)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
