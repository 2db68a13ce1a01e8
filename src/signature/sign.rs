//! The sending side: the exact headers a provider would send, for tests,
//! for the `tower-webhook sign` command, and for services that send webhooks themselves.
//!
//! ```
//! use tower_webhook::signature::{Outgoing, Signer};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let signer = Signer::preset("github", "It's a Secret to Everybody")?;
//! let headers = signer.sign(&Outgoing::new(b"Hello, World!", 0, "delivery-1"))?;
//! assert_eq!(headers[0].0, "x-hub-signature-256");
//! assert_eq!(
//!     headers[0].1,
//!     "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
//! );
//! # Ok(())
//! # }
//! ```
//!
//! Symmetric schemes all sign. Asymmetric ones sign given a private key
//! ([`KeyMaterial`] has private-key variants behind the `ed25519` / `ecdsa`
//! features) or, where the provider keeps its key, are verify-only and return
//! [`SignError::VerifyOnly`].

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderName, HeaderValue, Request};

use crate::signature::keyring::KeyMaterial;
use crate::signature::scheme::{Outgoing, Scheme, SignError, SignedHeaders};

/// A scheme and a key, ready to sign deliveries.
#[derive(Debug, Clone)]
pub struct Signer {
    scheme: Arc<dyn Scheme>,
    key: KeyMaterial,
    sends: &'static [(&'static str, Sent)],
}

/// The value of a header a provider sends with every delivery besides its
/// signature, as a delivery the crate signs carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Sent {
    /// The delivery id of the delivery.
    DeliveryId,
    /// This value (an event name, a retry counter), a harmless default
    /// where the real one depends on the event.
    Fixed(&'static str),
    /// The delivery's timestamp in RFC 3339 (Shopify's
    /// `X-Shopify-Triggered-At`).
    Rfc3339Timestamp,
}

impl Signer {
    /// Sign with `scheme` and `key`.
    pub fn new(scheme: Arc<dyn Scheme>, key: KeyMaterial) -> Self {
        Self {
            scheme,
            key,
            sends: &[],
        }
    }

    /// Also send `headers` with every delivery
    /// ([`delivery_headers`](Self::delivery_headers)): a provider's
    /// delivery id, event and retry headers. [`Signer::preset`] sets its
    /// provider's.
    pub fn sending(mut self, headers: &'static [(&'static str, Sent)]) -> Self {
        self.sends = headers;
        self
    }

    /// The headers besides the signature this signer sends with `outgoing`.
    fn sent_headers(&self, outgoing: &Outgoing<'_>) -> SignedHeaders {
        self.sends
            .iter()
            // A value that is no header value (an id with a newline) leaves
            // its header out rather than failing the signature.
            .filter_map(|(name, sent)| {
                let value = match sent {
                    Sent::DeliveryId => HeaderValue::from_str(outgoing.id).ok()?,
                    Sent::Fixed(value) => HeaderValue::from_str(value).ok()?,
                    Sent::Rfc3339Timestamp => rfc3339(outgoing.timestamp)?,
                };
                Some((HeaderName::from_static(name), value))
            })
            .collect()
    }

    /// The scheme.
    pub fn scheme(&self) -> &dyn Scheme {
        self.scheme.as_ref()
    }

    /// The headers for `outgoing`.
    pub fn sign(&self, outgoing: &Outgoing<'_>) -> Result<SignedHeaders, SignError> {
        self.scheme.sign(&self.key, outgoing)
    }

    /// Every header the provider sends with `outgoing`: the signed ones
    /// ([`sign`](Self::sign)), then its delivery id, event name and retry
    /// headers (`X-GitHub-Delivery`, `X-GitHub-Event: ping`,
    /// `X-Shopify-Topic`, `Linear-Delivery`, ...), with a harmless default
    /// where the value depends on the event.
    ///
    /// ```
    /// use tower_webhook::signature::{Outgoing, Signer};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let signer = Signer::preset("github", "It's a Secret to Everybody")?;
    /// let headers = signer.delivery_headers(&Outgoing::new(b"{}", 0, "72d3162e"))?;
    /// assert!(headers.iter().any(|(name, value)| name == "x-github-delivery" && value == "72d3162e"));
    /// assert!(headers.iter().any(|(name, value)| name == "x-github-event" && value == "ping"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn delivery_headers(&self, outgoing: &Outgoing<'_>) -> Result<SignedHeaders, SignError> {
        let mut headers = self.sign(outgoing)?;
        headers.extend(self.sent_headers(outgoing));
        Ok(headers)
    }

    /// Sign `request` in place: its method, URI (as the URL) and body, at
    /// `timestamp` (Unix seconds) with delivery `id`, adding every header
    /// the provider sends ([`delivery_headers`](Self::delivery_headers)).
    /// A non-signature header the request already has (e.g. your own
    /// `X-GitHub-Event: push`) is kept.
    pub fn sign_request<B: AsRef<[u8]>>(
        &self,
        request: &mut Request<B>,
        timestamp: i64,
        id: &str,
    ) -> Result<(), SignError> {
        let url = request.uri().to_string();
        let method = request.method().clone();
        // Taken out so the body can be read while the headers are written.
        let mut headers = std::mem::take(request.headers_mut());
        let outgoing = Outgoing::new(request.body().as_ref(), timestamp, id)
            .to_url(&url)
            .with_method(&method);
        let signed = self.sign_into(&mut headers, &outgoing);
        *request.headers_mut() = headers;
        signed
    }

    /// Write the headers of `outgoing` into `headers`: the signed ones
    /// replace what is there, the provider's others only fill what is not.
    pub(crate) fn sign_into(
        &self,
        headers: &mut http::HeaderMap,
        outgoing: &Outgoing<'_>,
    ) -> Result<(), SignError> {
        for (name, value) in self.sign(outgoing)? {
            headers.insert(name, value);
        }
        for (name, value) in self.sent_headers(outgoing) {
            if !headers.contains_key(&name) {
                headers.insert(name, value);
            }
        }
        Ok(())
    }
}

/// Whole seconds and `Z`, as the `time` crate writes RFC 3339.
fn rfc3339(unix_seconds: i64) -> Option<HeaderValue> {
    HeaderValue::from_str(&crate::timestamp::rfc3339_seconds(unix_seconds)?).ok()
}

/// Now, in Unix seconds (0 if the clock is before 1970).
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

// The signer under test sends as the GitHub preset, from the registry.
#[cfg(test)]
#[cfg(feature = "provider")]
mod tests {
    use super::*;

    fn signer(sends: &'static [(&'static str, Sent)]) -> Signer {
        let scheme: Arc<dyn Scheme> = Arc::new(crate::provider::github::github());
        let key = scheme.parse_key("a-secret").unwrap();
        Signer::new(scheme, key).sending(sends)
    }

    #[test]
    fn the_sent_headers_carry_the_id_the_value_and_the_time() {
        let signer = signer(&[
            ("x-delivery", Sent::DeliveryId),
            ("x-event", Sent::Fixed("ping")),
            ("x-at", Sent::Rfc3339Timestamp),
        ]);
        let headers = signer.sent_headers(&Outgoing::new(b"{}", 0, "72d3162e"));
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.to_str().unwrap().to_owned())
        };
        assert_eq!(get("x-delivery").as_deref(), Some("72d3162e"));
        assert_eq!(get("x-event").as_deref(), Some("ping"));
        assert_eq!(get("x-at").as_deref(), Some("1970-01-01T00:00:00Z"));
    }

    #[test]
    fn the_rfc3339_header_spans_the_four_digit_years() {
        let text = |seconds| rfc3339(seconds).map(|value| value.to_str().unwrap().to_owned());
        assert_eq!(
            text(-62_167_219_200).as_deref(),
            Some("0000-01-01T00:00:00Z")
        );
        assert_eq!(text(-62_167_219_201), None);
        assert_eq!(
            text(253_402_300_799).as_deref(),
            Some("9999-12-31T23:59:59Z")
        );
        assert_eq!(text(253_402_300_800), None);
        assert_eq!(text(1_700_000_000).as_deref(), Some("2023-11-14T22:13:20Z"));
    }

    proptest::proptest! {
        // What the `time` crate writes (the sender's header was once made
        // with it, and receivers compare it as text).
        #[test]
        fn the_rfc3339_header_is_what_the_time_crate_writes(
            seconds in -62_167_219_300i64..253_402_300_900,
        ) {
            use ::time::format_description::well_known::Rfc3339;
            let expected = ::time::OffsetDateTime::from_unix_timestamp(seconds)
                .ok()
                .and_then(|at| at.format(&Rfc3339).ok());
            let ours = rfc3339(seconds).map(|value| value.to_str().unwrap().to_owned());
            proptest::prop_assert_eq!(ours, expected);
        }
    }

    #[test]
    fn an_id_that_is_no_header_value_is_left_out() {
        let signer = signer(&[("x-delivery", Sent::DeliveryId)]);
        let headers = signer.sent_headers(&Outgoing::new(b"{}", 0, "bad\nid"));
        assert!(headers.is_empty());
    }

    #[test]
    fn a_signer_of_no_provider_sends_nothing_more() {
        assert!(signer(&[])
            .sent_headers(&Outgoing::new(b"{}", 0, "x"))
            .is_empty());
    }
}
