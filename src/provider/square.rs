//! Square: `x-square-hmacsha256-signature: <base64 HMAC-SHA256>` over the
//! notification URL (exactly as configured in the webhook subscription)
//! followed by the raw body, keyed with the subscription's signature key.
//!
//! The deprecated `x-square-signature` (HMAC-SHA1, base64, same bytes) is
//! accepted only with [`square_with_legacy_sha1`], and only when the
//! SHA-256 header is absent. Square signs no timestamp; the delivery's
//! `event_id` is in the body.
//!
//! ```
//! use tower_webhook::signature::PublicUrl;
//! use tower_webhook::provider::square::square;
//! use tower_webhook::signature::{Keyring, SignatureLayer};
//! use tower_webhook::Secret;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let scheme = square().public_url(PublicUrl::exact("https://hooks.example.com/square")?);
//! let layer = SignatureLayer::new(scheme, Keyring::single(Secret::new("Ibxx_5AKakO-3qeNVR61Dw")?))?;
//! # let _ = layer;
//! # Ok(())
//! # }
//! ```

use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;

use super::{Provider, Sent, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, UNDOCUMENTED};
use crate::signature::declared::{Algorithm, DeclaredScheme, Encoding, Part, SignatureHeader};

/// `x-square-hmacsha256-signature`.
pub const SIGNATURE: HeaderName = HeaderName::from_static("x-square-hmacsha256-signature");

/// `x-square-signature`, the deprecated HMAC-SHA1 header.
pub const LEGACY_SIGNATURE: HeaderName = HeaderName::from_static("x-square-signature");

/// Square: HMAC-SHA256 of `{notification_url}{body}`, base64. The URL is
/// rebuilt from the request ([`PublicUrl::from_request`]) unless set:
/// prefer [`DeclaredScheme::public_url`] with [`PublicUrl::exact`] and the
/// URL of the subscription. The deprecated SHA-1 header is refused (judged,
/// not ignored).
///
/// [`PublicUrl::from_request`]: crate::signature::public_url::PublicUrl::from_request
/// [`PublicUrl::exact`]: crate::signature::public_url::PublicUrl::exact
pub fn square() -> DeclaredScheme {
    DeclaredScheme::new("square")
        .signature(SignatureHeader::new(SIGNATURE).encoding(Encoding::Base64))
        .refuse_signature(LEGACY_SIGNATURE)
        .message([Part::Url, Part::Body])
        .delivery_id_field("/event_id")
}

/// [`square`], also accepting the deprecated `x-square-signature`
/// (HMAC-SHA1 of the same bytes) when the SHA-256 header is absent, and
/// sending both when signing.
pub fn square_with_legacy_sha1() -> DeclaredScheme {
    square().signature(
        SignatureHeader::new(LEGACY_SIGNATURE)
            .algorithm(Algorithm::Sha1)
            .encoding(Encoding::Base64),
    )
}

/// square: what every way of building its receiver reads.
pub const SQUARE: Provider = Provider {
    name: "square",
    scheme: || Arc::new(square()),
    signed: "the notification URL and the raw body",
    unsigned_headers: &[
        "square-environment",
        "square-initial-delivery-timestamp",
        "square-retry-number",
        "square-retry-reason",
    ],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the event id, /event_id in the signed body",
    handshake: None,
    retry_horizon: Some(Duration::from_secs(86400)),
    retry_horizon_source: "developer.squareup.com/docs/webhooks/troubleshooting: unsuccessful deliveries are retried for up to 24 hours, then discarded",
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "developer.squareup.com/docs/webhooks/step3validate (x-square-hmacsha256-signature: <base64 HMAC-SHA256 of \"{notification URL}{body}\">)",
    vectors: Vectors::Published(&[
        "square/square-python-sdk tests/integration/test_webhooks_helper.py",
    ]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[
        ("square-environment", Sent::Fixed("Sandbox")),
        ("square-retry-number", Sent::Fixed("0")),
    ],
    requires: &[],
};

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::signature::{Outgoing, Scheme, Signer};

    fn signed(scheme: DeclaredScheme, url: &str, body: &[u8]) -> Vec<String> {
        let key = scheme.parse_key("signature-key").unwrap();
        Signer::new(Arc::new(scheme), key)
            .sign(&Outgoing::new(body, 0, "").to_url(url))
            .unwrap()
            .into_iter()
            .map(|(_, value)| value.to_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn official_escaped_chars_vector() {
        // square/square-python-sdk tests/integration/test_webhooks_helper.py
        let body = br#"{"data":{"type":"webhooks","id":">id<"}}"#;
        let expected = "Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U=";
        assert_eq!(
            signed(square(), "https://webhook.site/webhooks", body),
            [expected]
        );
        assert_ne!(
            signed(square(), "https://webhook.site/webhook", body),
            [expected]
        );
        let both = signed(
            square_with_legacy_sha1(),
            "https://webhook.site/webhooks",
            body,
        );
        assert_eq!(both.len(), 2);
        assert_eq!(both[0], expected);
    }
}
