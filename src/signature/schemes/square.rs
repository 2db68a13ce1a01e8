//! Square: `x-square-hmacsha256-signature: <base64 HMAC-SHA256>` over the
//! notification URL (exactly as configured in the webhook subscription)
//! followed by the raw body, keyed with the subscription's signature key.
//!
//! The deprecated `x-square-signature` (HMAC-SHA1, base64, same bytes) is
//! accepted only with [`Square::with_legacy_sha1`], and only when the
//! SHA-256 header is absent. Square signs no timestamp; the delivery's
//! `event_id` is in the body.
//!
//! ```
//! use tower_webhook::signature::schemes::public_url::PublicUrl;
//! use tower_webhook::signature::schemes::square::square;
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

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::Mac;
use http::request::Parts;
use http::{HeaderName, HeaderValue};
use subtle::ConstantTimeEq;

use crate::rejection::{Reason, Rejection};
use crate::signature::keyring::{KeyMaterial, SharedSecret};
use crate::signature::scheme::{
    one_header, Delivery, Outgoing, Scheme, SignError, Signatures, SignedHeaders,
};
use crate::signature::schemes::public_url::{url_and_body_split_once, PublicUrl};

/// `x-square-hmacsha256-signature`.
pub const SIGNATURE: HeaderName = HeaderName::from_static("x-square-hmacsha256-signature");

/// `x-square-signature`, the deprecated HMAC-SHA1 header.
pub const LEGACY_SIGNATURE: HeaderName = HeaderName::from_static("x-square-signature");

const SHA256: u8 = 0;
const SHA1: u8 = 1;

/// The Square scheme (see the [module docs](self)).
#[derive(Debug, Clone, Default)]
pub struct Square {
    url: PublicUrl,
    legacy_sha1: bool,
}

/// Square, with the notification URL rebuilt from the request
/// ([`PublicUrl::from_request`]); prefer [`Square::public_url`] with
/// [`PublicUrl::exact`] and the URL of the subscription.
pub fn square() -> Square {
    Square::default()
}

impl Square {
    /// Where the notification URL comes from.
    pub fn public_url(mut self, url: PublicUrl) -> Self {
        self.url = url;
        self
    }

    /// Also accept the deprecated `x-square-signature` (HMAC-SHA1) when the
    /// SHA-256 header is absent, and send both when signing.
    pub fn with_legacy_sha1(mut self) -> Self {
        self.legacy_sha1 = true;
        self
    }
}

/// HMAC-SHA256 of `{notification_url}{body}`.
pub fn mac_sha256(key: &SharedSecret, notification_url: &str, body: &[u8]) -> [u8; 32] {
    let mut mac = key.hmac_sha256();
    mac.update(notification_url.as_bytes());
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA1 of `{notification_url}{body}` (the legacy header).
pub fn mac_sha1(key: &SharedSecret, notification_url: &str, body: &[u8]) -> [u8; 20] {
    let mut mac = key.hmac_sha1();
    mac.update(notification_url.as_bytes());
    mac.update(body);
    mac.finalize().into_bytes().into()
}

fn decode(value: &[u8]) -> Result<Vec<u8>, Rejection> {
    STANDARD
        .decode(value.trim_ascii())
        .map_err(|_| Rejection::new(Reason::SignatureMalformed))
}

impl Scheme for Square {
    fn covers_url(&self) -> bool {
        self.url.covers_request_uri()
    }

    fn name(&self) -> &str {
        "square"
    }

    /// Square's `event_id`, the same on every retry.
    fn delivery_id_field(&self) -> Option<&str> {
        Some("/event_id")
    }

    fn parse_head(&self, parts: &Parts) -> Result<Signatures, Rejection> {
        let mut signatures = Signatures::new();
        if let Some(value) = one_header(&parts.headers, &SIGNATURE, Reason::SignatureMalformed)? {
            signatures.push(SHA256, decode(value)?)?;
        } else if let Some(value) = self
            .legacy_sha1
            .then(|| {
                one_header(
                    &parts.headers,
                    &LEGACY_SIGNATURE,
                    Reason::SignatureMalformed,
                )
            })
            .transpose()?
            .flatten()
        {
            signatures.push(SHA1, decode(value)?)?;
        } else if parts.headers.contains_key(LEGACY_SIGNATURE) {
            // Square's own (deprecated) signature, not accepted here: the
            // request is judged by it and refused, never passed on to a
            // legacy token.
            return Err(Rejection::new(Reason::SignatureMalformed));
        } else {
            return Err(Rejection::new(Reason::SignatureMissing));
        }
        Ok(signatures)
    }

    /// `{url}{body}` has no separator: refuse a request whose URL and body
    /// could be cut elsewhere (`signature_malformed`).
    fn parse_body(
        &self,
        signatures: Signatures,
        parts: &Parts,
        body: &[u8],
    ) -> Result<Signatures, Rejection> {
        match self.url.resolve(parts) {
            Some(url) if !url_and_body_split_once(&url, body) => {
                Err(Rejection::new(Reason::SignatureMalformed))
            }
            _ => Ok(signatures),
        }
    }

    fn verify(
        &self,
        key: &KeyMaterial,
        signatures: &Signatures,
        delivery: &Delivery<'_>,
    ) -> Option<usize> {
        let key = key.as_shared()?;
        let url = self.url.resolve(delivery.parts)?;
        let mut matched = None;
        for (index, candidate) in signatures.candidates().iter().enumerate() {
            let equal = match candidate.kind {
                SHA256 => mac_sha256(key, &url, delivery.body).ct_eq(&candidate.bytes),
                _ => mac_sha1(key, &url, delivery.body).ct_eq(&candidate.bytes),
            };
            if bool::from(equal) && matched.is_none() {
                matched = Some(index);
            }
        }
        matched
    }

    /// Signs `outgoing.url` (required: the notification URL) and the body.
    fn sign(&self, key: &KeyMaterial, outgoing: &Outgoing<'_>) -> Result<SignedHeaders, SignError> {
        let key = key.as_shared().ok_or(SignError::WrongKeyKind)?;
        let url = outgoing.url.ok_or(SignError::MissingUrl)?;
        let value = |bytes: &[u8]| {
            HeaderValue::from_str(&STANDARD.encode(bytes))
                .map_err(|_| SignError::InvalidHeaderValue)
        };
        let mut headers = vec![(SIGNATURE, value(&mac_sha256(key, url, outgoing.body))?)];
        if self.legacy_sha1 {
            headers.push((LEGACY_SIGNATURE, value(&mac_sha1(key, url, outgoing.body))?));
        }
        Ok(headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    #[test]
    fn official_escaped_chars_vector() {
        // square/square-python-sdk tests/integration/test_webhooks_helper.py
        let key = SharedSecret::new(Secret::new("signature-key").unwrap());
        let body = br#"{"data":{"type":"webhooks","id":">id<"}}"#;
        let expected = STANDARD
            .decode("Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U=")
            .unwrap();
        assert_eq!(
            mac_sha256(&key, "https://webhook.site/webhooks", body).as_slice(),
            expected
        );
        assert_ne!(
            mac_sha256(&key, "https://webhook.site/webhook", body).as_slice(),
            expected
        );
    }
}
