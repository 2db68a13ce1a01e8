//! HubSpot request signatures.
//!
//! * **v3** ([`hubspot_v3`]): `X-HubSpot-Signature-v3: <base64>` =
//!   HMAC-SHA256 (app client secret) of
//!   `{METHOD}{URI}{body}{X-HubSpot-Request-Timestamp}`, where URI is the
//!   full public URL (`https://…`) with the percent-escapes HubSpot's docs
//!   list (`%3A` `%2F` `%3F` `%40` `%21` `%24` `%27` `%28` `%29` `%2A` `%2C`
//!   `%3B`) decoded, and the timestamp is in **milliseconds**. HubSpot's
//!   window (5 minutes, past only) is [`Scheme::tolerance`], enforced by the
//!   replay layer.
//! * **v1/v2** ([`hubspot_v1`], [`hubspot_v2`], legacy):
//!   `X-HubSpot-Signature: <hex>` with `X-HubSpot-Signature-Version: v1|v2`,
//!   a **plain SHA-256** (not an HMAC) of `{secret}{body}` (v1) or
//!   `{secret}{METHOD}{URI}{body}` (v2). Weaker (no timestamp, a prefix-keyed
//!   hash): accept them only for apps that still send them.
//!
//! The URI is the public one HubSpot called: set it with
//! [`HubSpot::public_url`] behind a proxy.
//!
//! v2 and v3 concatenate with no separator, so each boundary is pinned:
//! the timestamp must be exactly 13 digits (no leading zero), or the URI's
//! or body's last digits could pass for its first ones (`?userId=100` +
//! `1693…` read as `?userId=1` + `001693…`); and the body must be empty or
//! start with a byte no URL holds (`{`, `[`), or the URI's last bytes could
//! pass for the body's first. Anything else is `signature_malformed`.
//!
//! ```
//! use std::sync::Arc;
//! use tower_webhook::signature::schemes::hubspot::hubspot_v3;
//! use tower_webhook::signature::{Outgoing, Scheme, Signer};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let scheme = hubspot_v3();
//! let key = scheme.parse_key("yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy")?;
//! // HubSpot's own SDK test vector.
//! let headers = Signer::new(Arc::new(scheme), key).sign(
//!     &Outgoing::new(b"{'example_field':'example_value'}", 1_693_657_560, "")
//!         .to_url("https://www.example.com/webhook_uri"),
//! )?;
//! assert_eq!(headers[0].1, "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=");
//! assert_eq!(headers[1].1, "1693657560000");
//! # Ok(())
//! # }
//! ```

use std::borrow::Cow;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::Mac;
use http::request::Parts;
use http::{HeaderName, HeaderValue};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::rejection::{Reason, Rejection};
use crate::signature::keyring::{KeyMaterial, SharedSecret};
use crate::signature::scheme::{
    one_header, Delivery, Outgoing, Scheme, SignError, Signatures, SignedHeaders, Stamp, Tolerance,
};
use crate::signature::schemes::public_url::{url_and_body_split_once, PublicUrl};
use crate::signature::TimestampFormat;

/// `X-HubSpot-Signature-v3`.
pub const SIGNATURE_V3: HeaderName = HeaderName::from_static("x-hubspot-signature-v3");
/// `X-HubSpot-Request-Timestamp` (Unix milliseconds).
pub const TIMESTAMP: HeaderName = HeaderName::from_static("x-hubspot-request-timestamp");
/// `X-HubSpot-Signature` (v1/v2).
pub const SIGNATURE_LEGACY: HeaderName = HeaderName::from_static("x-hubspot-signature");
/// `X-HubSpot-Signature-Version` (`v1` or `v2`).
pub const SIGNATURE_VERSION: HeaderName = HeaderName::from_static("x-hubspot-signature-version");

/// Which HubSpot signature a [`HubSpot`] scheme checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Version {
    /// Plain SHA-256 of `{secret}{body}`.
    V1,
    /// Plain SHA-256 of `{secret}{METHOD}{URI}{body}`.
    V2,
    /// HMAC-SHA256 of `{METHOD}{URI}{body}{timestamp}`, base64.
    V3,
}

impl Version {
    fn label(self) -> &'static str {
        match self {
            Version::V1 => "v1",
            Version::V2 => "v2",
            Version::V3 => "v3",
        }
    }
}

/// A HubSpot scheme (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct HubSpot {
    version: Version,
    url: PublicUrl,
}

/// HubSpot v3 (current).
pub fn hubspot_v3() -> HubSpot {
    HubSpot {
        version: Version::V3,
        url: PublicUrl::default(),
    }
}

/// HubSpot v2 (legacy; `X-HubSpot-Signature-Version: v2`).
pub fn hubspot_v2() -> HubSpot {
    HubSpot {
        version: Version::V2,
        ..hubspot_v3()
    }
}

/// HubSpot v1 (legacy CRM webhooks; `X-HubSpot-Signature-Version: v1`).
pub fn hubspot_v1() -> HubSpot {
    HubSpot {
        version: Version::V1,
        ..hubspot_v3()
    }
}

impl HubSpot {
    /// Where the URI HubSpot called comes from (v2, v3).
    pub fn public_url(mut self, url: PublicUrl) -> Self {
        self.url = url;
        self
    }

    /// The signature version checked.
    pub fn version(&self) -> Version {
        self.version
    }
}

/// `uri` with the percent-escapes HubSpot's v3 docs list decoded
/// (case-insensitively); other escapes are kept.
pub fn decode_v3_uri(uri: &str) -> Cow<'_, str> {
    if !uri.contains('%') {
        return Cow::Borrowed(uri);
    }
    let bytes = uri.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let decoded = match (byte, bytes.get(i + 1..i + 3)) {
            (b'%', Some(pair)) => match pair.to_ascii_uppercase().as_slice() {
                b"3A" => Some(b':'),
                b"2F" => Some(b'/'),
                b"3F" => Some(b'?'),
                b"40" => Some(b'@'),
                b"21" => Some(b'!'),
                b"24" => Some(b'$'),
                b"27" => Some(b'\''),
                b"28" => Some(b'('),
                b"29" => Some(b')'),
                b"2A" => Some(b'*'),
                b"2C" => Some(b','),
                b"3B" => Some(b';'),
                _ => None,
            },
            _ => None,
        };
        match decoded {
            Some(ascii) => {
                out.push(ascii);
                i += 3;
            }
            None => {
                out.push(byte);
                i += 1;
            }
        }
    }
    // Only ASCII escapes were replaced by ASCII, so the text stays UTF-8.
    Cow::Owned(String::from_utf8(out).unwrap_or_else(|_| uri.to_owned()))
}

/// The v3 MAC of `{method}{uri}{body}{timestamp}` (`uri` already decoded).
pub fn mac_v3(
    key: &SharedSecret,
    method: &str,
    uri: &str,
    body: &[u8],
    timestamp: &[u8],
) -> [u8; 32] {
    let mut mac = key.hmac_sha256();
    mac.update(method.as_bytes());
    mac.update(uri.as_bytes());
    mac.update(body);
    mac.update(timestamp);
    mac.finalize().into_bytes().into()
}

/// The v1 (`uri` = `None`) or v2 hash: SHA-256 of
/// `{secret}[{method}{uri}]{body}`.
pub fn hash_legacy(
    key: &SharedSecret,
    method_and_uri: Option<(&str, &str)>,
    body: &[u8],
) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(key.secret().expose_secret());
    if let Some((method, uri)) = method_and_uri {
        hash.update(method.as_bytes());
        hash.update(uri.as_bytes());
    }
    hash.update(body);
    hash.finalize().into()
}

impl HubSpot {
    fn parse_v3(&self, parts: &Parts) -> Result<Signatures, Rejection> {
        let value = one_header(&parts.headers, &SIGNATURE_V3, Reason::SignatureMalformed)?
            .ok_or_else(|| Rejection::new(Reason::SignatureMissing))?;
        let bytes = STANDARD
            .decode(value.trim_ascii())
            .map_err(|_| Rejection::new(Reason::SignatureMalformed))?;
        let stamp =
            Stamp::from_header_fixed_width(&parts.headers, &TIMESTAMP, TimestampFormat::Millis)?;
        let mut signatures = Signatures::new();
        signatures.push(0, bytes)?;
        signatures.set_timestamp(stamp);
        Ok(signatures)
    }

    fn parse_legacy(&self, parts: &Parts) -> Result<Signatures, Rejection> {
        let Some(value) = one_header(
            &parts.headers,
            &SIGNATURE_LEGACY,
            Reason::SignatureMalformed,
        )?
        else {
            return Err(Rejection::new(Reason::SignatureMissing));
        };
        match one_header(
            &parts.headers,
            &SIGNATURE_VERSION,
            Reason::SignatureMalformed,
        )? {
            Some(version) if version.trim_ascii() == self.version.label().as_bytes() => {}
            // Another version's signature (or none named) is still a
            // signature this request carries: it is judged by it and
            // refused, never passed on to a legacy token, as a signature of
            // a version we do not accept is in every scheme.
            _ => return Err(Rejection::new(Reason::SignatureMalformed)),
        }
        let bytes = hex::decode(value.trim_ascii())
            .map_err(|_| Rejection::new(Reason::SignatureMalformed))?;
        let mut signatures = Signatures::new();
        signatures.push(0, bytes)?;
        Ok(signatures)
    }

    fn expected(
        &self,
        key: &SharedSecret,
        delivery: &Delivery<'_>,
        signatures: &Signatures,
    ) -> Option<[u8; 32]> {
        let method = delivery.parts.method.as_str();
        Some(match self.version {
            Version::V1 => hash_legacy(key, None, delivery.body),
            Version::V2 => {
                let uri = self.url.resolve(delivery.parts)?;
                hash_legacy(key, Some((method, &uri)), delivery.body)
            }
            Version::V3 => {
                let uri = self.url.resolve(delivery.parts)?;
                let timestamp = signatures.timestamp()?;
                mac_v3(
                    key,
                    method,
                    &decode_v3_uri(&uri),
                    delivery.body,
                    &timestamp.text,
                )
            }
        })
    }
}

impl Scheme for HubSpot {
    fn name(&self) -> &str {
        match self.version {
            Version::V1 => "hubspot-v1",
            Version::V2 => "hubspot-v2",
            Version::V3 => "hubspot-v3",
        }
    }

    fn covers_url(&self) -> bool {
        self.version != Version::V1 && self.url.covers_request_uri()
    }

    fn tolerance(&self) -> Option<Tolerance> {
        (self.version == Version::V3).then(|| Tolerance::past_only(Duration::from_secs(300)))
    }

    fn parse_head(&self, parts: &Parts) -> Result<Signatures, Rejection> {
        match self.version {
            Version::V3 => self.parse_v3(parts),
            Version::V1 | Version::V2 => self.parse_legacy(parts),
        }
    }

    /// v2 and v3 sign `{URI}{body}` with no separator: refuse a request
    /// whose URI and body could be cut elsewhere
    /// (`signature_malformed`).
    fn parse_body(
        &self,
        signatures: Signatures,
        parts: &Parts,
        body: &[u8],
    ) -> Result<Signatures, Rejection> {
        let uri = match self.version {
            Version::V1 => return Ok(signatures),
            Version::V2 => self.url.resolve(parts),
            Version::V3 => self
                .url
                .resolve(parts)
                .map(|uri| decode_v3_uri(&uri).into_owned()),
        };
        match uri {
            Some(uri) if !url_and_body_split_once(&uri, body) => {
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
        let expected = self.expected(key.as_shared()?, delivery, signatures)?;
        let mut matched = None;
        for (index, candidate) in signatures.candidates().iter().enumerate() {
            if bool::from(expected.ct_eq(&candidate.bytes)) && matched.is_none() {
                matched = Some(index);
            }
        }
        matched
    }

    /// v2 and v3 sign `outgoing.url` (required); v3 sends the timestamp in
    /// milliseconds.
    fn sign(&self, key: &KeyMaterial, outgoing: &Outgoing<'_>) -> Result<SignedHeaders, SignError> {
        let key = key.as_shared().ok_or(SignError::WrongKeyKind)?;
        let method = outgoing.method.as_str();
        let value =
            |text: &str| HeaderValue::from_str(text).map_err(|_| SignError::InvalidHeaderValue);
        match self.version {
            Version::V3 => {
                let url = outgoing.url.ok_or(SignError::MissingUrl)?;
                let timestamp = TimestampFormat::Millis
                    .format_fixed_width(outgoing.timestamp)
                    .ok_or(SignError::InvalidTimestamp)?;
                let mac = mac_v3(
                    key,
                    method,
                    &decode_v3_uri(url),
                    outgoing.body,
                    timestamp.as_bytes(),
                );
                Ok(vec![
                    (SIGNATURE_V3, value(&STANDARD.encode(mac))?),
                    (TIMESTAMP, value(&timestamp)?),
                ])
            }
            Version::V1 | Version::V2 => {
                let method_and_uri = match self.version {
                    Version::V2 => Some((method, outgoing.url.ok_or(SignError::MissingUrl)?)),
                    _ => None,
                };
                let hash = hash_legacy(key, method_and_uri, outgoing.body);
                Ok(vec![
                    (SIGNATURE_LEGACY, value(&hex::encode(hash))?),
                    (SIGNATURE_VERSION, value(self.version.label())?),
                ])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn key() -> SharedSecret {
        SharedSecret::new(Secret::new("yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy").unwrap())
    }

    const BODY: &[u8] = b"{'example_field':'example_value'}";
    const URI: &str = "https://www.example.com/webhook_uri";

    #[test]
    fn official_sdk_vectors() {
        // HubSpot/hubspot-api-python tests/spec/utils/test_signature.py
        assert_eq!(
            hex::encode(hash_legacy(&key(), None, BODY)),
            "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750"
        );
        assert_eq!(
            hex::encode(hash_legacy(&key(), Some(("POST", URI)), BODY)),
            "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383"
        );
        assert_eq!(
            STANDARD.encode(mac_v3(&key(), "POST", URI, BODY, b"1693657560000")),
            "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y="
        );
        assert_ne!(
            STANDARD.encode(mac_v3(&key(), "POST", URI, BODY, b"1693657560001")),
            "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y="
        );
    }

    #[test]
    fn decodes_only_the_listed_escapes() {
        assert_eq!(
            decode_v3_uri("https://a.example/p?x=a%3Ab%2fc%20d%25e%2"),
            "https://a.example/p?x=a:b/c%20d%25e%2"
        );
        assert!(matches!(decode_v3_uri(URI), Cow::Borrowed(_)));
        assert_eq!(decode_v3_uri("%E2%82%AC%40"), "%E2%82%AC@");
    }

    proptest::proptest! {
        #[test]
        fn decoding_never_panics_and_only_shrinks(uri in "[a-z%0-9A-F/:?]{0,40}") {
            let decoded = decode_v3_uri(&uri);
            proptest::prop_assert!(decoded.len() <= uri.len());
            if !uri.contains('%') {
                proptest::prop_assert_eq!(decoded.as_ref(), uri.as_str());
            }
        }
    }
}
