//! Twilio: `X-Twilio-Signature: <base64 HMAC-SHA1>` keyed with the account's
//! Auth Token, over the URL Twilio called and, for form posts, every POST
//! parameter.
//!
//! * **Form** (`application/x-www-form-urlencoded`): the URL (scheme, host,
//!   path, query) followed by each parameter as `name` + `value`, decoded,
//!   sorted by name then value, repeated pairs once, no separators. A body
//!   is read as form parameters whenever the URL has no `bodySHA256`, as
//!   the signing side does (the Content-Type is not consulted; an empty
//!   body, as with a GET, has none).
//! * **JSON body**: Twilio appends `bodySHA256=<hex SHA-256 of the body>` to
//!   the URL's query and signs the URL alone; the body must hash to it.
//! * Twilio's back end signs the URL with or without its port, so both
//!   spellings are accepted, as in its SDKs: a URL without a port also with
//!   the default one (`:443`, `:80`), a URL with any port also without it.
//!
//! Only the *decoded* parameters are covered, not the body's bytes: pairs
//! may be reordered, and spellings that decode alike (`+` and `%20`, two
//! invalid UTF-8 sequences that both decode to U+FFFD) are interchangeable.
//! Read the body as form parameters (as Twilio's SDKs do), never as bytes.
//!
//! The URL is the *public* one Twilio called: configure it with
//! [`Twilio::public_url`] when a proxy rewrites scheme, host, port or path.
//! There is no timestamp: replay protection comes only from idempotency
//! (`I-Twilio-Idempotency-Token`).
//!
//! The parameters are decoded and sorted once per request, not once per
//! key, and a form with more than [`MAX_FORM_PARAMS`] parameters is refused
//! as `payload_too_large` before any of that work. Twilio's own scheme
//! concatenates names and values with no separator, so `a=bc` and `ab=c`
//! sign alike: read only the parameters you expect, by name.
//!
//! ```
//! use tower_webhook::signature::schemes::public_url::PublicUrl;
//! use tower_webhook::signature::schemes::twilio::twilio;
//! use tower_webhook::signature::{Outgoing, Scheme, Signer};
//! use std::sync::Arc;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let scheme = twilio().public_url(PublicUrl::base("https://hooks.example.com")?);
//! let token = scheme.parse_key("12345")?;
//! // Twilio's own SDK test vector.
//! let headers = Signer::new(Arc::new(scheme), token).sign(
//!     &Outgoing::new(
//!         b"CallSid=CA1234567890ABCDE&Digits=1234&From=%2B14158675309&To=%2B18005551212&Caller=%2B14158675309",
//!         0,
//!         "",
//!     )
//!     .to_url("https://mycompany.com/myapp.php?foo=1&bar=2"),
//! )?;
//! assert_eq!(headers[0].1, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
//! # Ok(())
//! # }
//! ```

use std::borrow::Cow;

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
    one_header, Delivery, Outgoing, Scheme, SignError, Signatures, SignedHeaders,
};
use crate::signature::schemes::public_url::{other_port_spelling, PublicUrl};

/// `X-Twilio-Signature`.
pub const SIGNATURE: HeaderName = HeaderName::from_static("x-twilio-signature");

/// The query parameter carrying the body's SHA-256 in the JSON variant.
pub const BODY_SHA256: &str = "bodySHA256";

/// The most form parameters a request may carry (Twilio sends a few dozen).
/// More is refused as `payload_too_large` before they are decoded or
/// sorted, so what a stranger can make the server do before the signature
/// is checked stays proportional to the body.
pub const MAX_FORM_PARAMS: usize = 1024;

/// The Twilio scheme (see the [module docs](self)).
#[derive(Debug, Clone, Default)]
pub struct Twilio {
    url: PublicUrl,
}

/// Twilio, with the URL rebuilt from the request
/// ([`PublicUrl::from_request`]); set the public URL with
/// [`Twilio::public_url`] behind a proxy.
pub fn twilio() -> Twilio {
    Twilio::default()
}

impl Twilio {
    /// Where the URL Twilio called comes from.
    pub fn public_url(mut self, url: PublicUrl) -> Self {
        self.url = url;
        self
    }
}

/// The decoded form parameters in signing order: sorted by name then value,
/// each distinct pair once (as the official SDKs do).
pub fn sorted_params(form: &[u8]) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    let mut params: Vec<_> = form_urlencoded::parse(form).collect();
    params.sort_unstable();
    params.dedup();
    params
}

/// The number of parameters in a form body (its non-empty `&`-separated
/// pieces, as `form_urlencoded` reads them), counted without decoding.
fn param_count(form: &[u8]) -> usize {
    form.split(|&b| b == b'&')
        .filter(|piece| !piece.is_empty())
        .count()
}

/// The parameters as signed: each name and value, in signing order, with
/// nothing between them.
fn flatten(params: &[(Cow<'_, str>, Cow<'_, str>)]) -> Vec<u8> {
    let len = params.iter().map(|(n, v)| n.len() + v.len()).sum();
    let mut flat = Vec::with_capacity(len);
    for (name, value) in params {
        flat.extend_from_slice(name.as_bytes());
        flat.extend_from_slice(value.as_bytes());
    }
    flat
}

/// The HMAC-SHA1 of `url` followed by already flattened parameters.
fn mac_flat(key: &SharedSecret, url: &str, flat: &[u8]) -> [u8; 20] {
    let mut mac = key.hmac_sha1();
    mac.update(url.as_bytes());
    mac.update(flat);
    mac.finalize().into_bytes().into()
}

/// [`verify`] over flattened parameters.
fn verify_flat(key: &SharedSecret, url: &str, flat: &[u8], signature: &[u8]) -> bool {
    let direct = mac_flat(key, url, flat).ct_eq(signature);
    let other = other_port_spelling(url).map_or(subtle::Choice::from(0), |other| {
        mac_flat(key, &other, flat).ct_eq(signature)
    });
    bool::from(direct | other)
}

/// The `bodySHA256` value in `url`'s query: `Ok(None)` if absent, `Err` if
/// given more than once (ambiguous).
fn body_sha256(url: &str) -> Result<Option<Cow<'_, str>>, ()> {
    let Some((_, query)) = url.split_once('?') else {
        return Ok(None);
    };
    let query = query.split_once('#').map_or(query, |(query, _)| query);
    let mut found = None;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if name == BODY_SHA256 && found.replace(value).is_some() {
            return Err(());
        }
    }
    Ok(found)
}

/// The HMAC-SHA1 of `url` followed by `params` (name + value each).
pub fn mac(key: &SharedSecret, url: &str, params: &[(Cow<'_, str>, Cow<'_, str>)]) -> [u8; 20] {
    let mut mac = key.hmac_sha1();
    mac.update(url.as_bytes());
    for (name, value) in params {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac.finalize().into_bytes().into()
}

/// Whether `signature` is Twilio's for `url` + `params` under `key`, with
/// the URL spelled as given or with its default port toggled.
pub fn verify(
    key: &SharedSecret,
    url: &str,
    params: &[(Cow<'_, str>, Cow<'_, str>)],
    signature: &[u8],
) -> bool {
    let direct = mac(key, url, params).ct_eq(signature);
    // Both spellings are always computed so the time taken does not say
    // which one Twilio used.
    let other = other_port_spelling(url).map_or(subtle::Choice::from(0), |other| {
        mac(key, &other, params).ct_eq(signature)
    });
    bool::from(direct | other)
}

/// `url` with `bodySHA256=<hex SHA-256 of body>` appended to its query: the
/// URL Twilio calls (and signs) for a JSON body.
pub fn json_url(url: &str, body: &[u8]) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!(
        "{url}{separator}{BODY_SHA256}={}",
        hex::encode(Sha256::digest(body))
    )
}

impl Scheme for Twilio {
    fn name(&self) -> &str {
        "twilio"
    }

    fn covers_url(&self) -> bool {
        self.url.covers_request_uri()
    }

    fn canonical_body<'b>(&self, body: &'b [u8]) -> Cow<'b, [u8]> {
        // The form parameters as signed: sorted, repeats once. A JSON body
        // is bound through `bodySHA256` in the URL instead, which the URL
        // part of the digest already holds.
        let mut canonical = Vec::with_capacity(body.len());
        for (name, value) in sorted_params(body) {
            for part in [name.as_bytes(), value.as_bytes()] {
                canonical.extend_from_slice(&(part.len() as u64).to_be_bytes());
                canonical.extend_from_slice(part);
            }
        }
        Cow::Owned(canonical)
    }

    fn parse_head(&self, parts: &Parts) -> Result<Signatures, Rejection> {
        let value = one_header(&parts.headers, &SIGNATURE, Reason::SignatureMalformed)?
            .ok_or_else(|| Rejection::new(Reason::SignatureMissing))?;
        let bytes = STANDARD
            .decode(value.trim_ascii())
            .map_err(|_| Rejection::new(Reason::SignatureMalformed))?;
        let mut signatures = Signatures::new();
        signatures.push(0, bytes)?;
        Ok(signatures)
    }

    fn parse_body(
        &self,
        mut signatures: Signatures,
        parts: &Parts,
        body: &[u8],
    ) -> Result<Signatures, Rejection> {
        // The body hash, or the form parameters, are worked out once here
        // rather than per key; the URL (which carries the hash) is what the
        // signature covers.
        let Some(url) = self.url.resolve(parts) else {
            return Ok(signatures);
        };
        match body_sha256(&url) {
            Err(()) => Err(Rejection::new(Reason::SignatureMalformed)),
            Ok(None) => {
                // Without `bodySHA256` the body is form parameters, whatever
                // the Content-Type says: that is what the signing side does,
                // and Twilio sends no other body without the hash.
                if param_count(body) > MAX_FORM_PARAMS {
                    return Err(Rejection::new(Reason::PayloadTooLarge));
                }
                signatures.set_prepared(flatten(&sorted_params(body)));
                Ok(signatures)
            }
            Ok(Some(claimed)) => {
                let actual = hex::encode(Sha256::digest(body));
                if bool::from(
                    actual
                        .as_bytes()
                        .ct_eq(claimed.to_ascii_lowercase().as_bytes()),
                ) {
                    Ok(signatures)
                } else {
                    Err(Rejection::new(Reason::SignatureMismatch))
                }
            }
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
        // The form parameters [`parse_body`] flattened (none for a JSON
        // body, whose hash is in the URL).
        let params = signatures.prepared();
        signatures
            .candidates()
            .iter()
            .position(|candidate| verify_flat(key, &url, params, &candidate.bytes))
    }

    /// Signs `outgoing.url` (required) and, unless the URL carries
    /// `bodySHA256` (see [`json_url`]), the body's form parameters.
    fn sign(&self, key: &KeyMaterial, outgoing: &Outgoing<'_>) -> Result<SignedHeaders, SignError> {
        let key = key.as_shared().ok_or(SignError::WrongKeyKind)?;
        let url = outgoing.url.ok_or(SignError::MissingUrl)?;
        let params = match body_sha256(url) {
            Ok(Some(_)) => Vec::new(),
            Ok(None) => sorted_params(outgoing.body),
            Err(()) => return Err(SignError::InvalidHeaderValue),
        };
        let value = STANDARD.encode(mac(key, url, &params));
        let value = HeaderValue::from_str(&value).map_err(|_| SignError::InvalidHeaderValue)?;
        Ok(vec![(SIGNATURE, value)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn key() -> SharedSecret {
        SharedSecret::new(Secret::new("12345").unwrap())
    }

    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const FORM: &[u8] = b"CallSid=CA1234567890ABCDE&Digits=1234&From=%2B14158675309&To=%2B18005551212&Caller=%2B14158675309";

    fn b64(text: &str) -> Vec<u8> {
        STANDARD.decode(text).unwrap()
    }

    #[test]
    fn official_form_vector() {
        // twilio/twilio-python tests/unit/test_request_validator.py
        let params = sorted_params(FORM);
        assert!(verify(
            &key(),
            URL,
            &params,
            &b64("RSOYDt4T1cUTdK1PDd93/VVr8B8=")
        ));
        assert!(!verify(
            &key(),
            "https://mycompany.com/myapp.php?foo=1&bar=3",
            &params,
            &b64("RSOYDt4T1cUTdK1PDd93/VVr8B8=")
        ));
    }

    #[test]
    fn repeated_pairs_are_sorted_and_counted_once() {
        let params =
            sorted_params(b"Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234");
        let flat: Vec<_> = params.iter().map(|(n, v)| format!("{n}{v}")).collect();
        assert_eq!(
            flat,
            ["Digits1234", "Digits5678", "SidCA123", "SidAccountAC123"]
        );
        assert!(verify(
            &key(),
            URL,
            &params,
            &b64("IK+Dwps556ElfBT0I3Rgjkr1wJU=")
        ));
    }

    #[test]
    fn either_port_spelling_verifies() {
        let params = sorted_params(FORM);
        // Signed with :443, seen without.
        assert!(verify(
            &key(),
            URL,
            &params,
            &b64("kvajT1Ptam85bY51eRf/AJRuM3w=")
        ));
        // Signed with :80, seen without.
        assert!(verify(
            &key(),
            "http://mycompany.com/myapp.php?foo=1&bar=2",
            &params,
            &b64("0ZXoZLH/DfblKGATFgpif+LLRf4=")
        ));
        // Signed with :1234, seen without: no spelling adds a port that is
        // not the default.
        assert!(!verify(
            &key(),
            "http://mycompany.com/myapp.php?foo=1&bar=2",
            &params,
            &b64("Zmvh+3yNM1Phv2jhDCwEM3q5ebU=")
        ));
    }

    #[test]
    fn a_non_standard_port_is_removed_as_the_sdks_do() {
        // twilio-python test_validation_removes_port_on_https: the
        // receiver's URL has :1234, Twilio signed it without.
        let params = sorted_params(FORM);
        assert!(verify(
            &key(),
            "https://mycompany.com:1234/myapp.php?foo=1&bar=2",
            &params,
            &b64("RSOYDt4T1cUTdK1PDd93/VVr8B8=")
        ));
        // test_validation_removes_port_on_http: signed with :1234 and seen
        // with it.
        assert!(verify(
            &key(),
            "http://mycompany.com:1234/myapp.php?foo=1&bar=2",
            &params,
            &b64("Zmvh+3yNM1Phv2jhDCwEM3q5ebU=")
        ));
    }

    #[test]
    fn json_url_appends_the_body_hash() {
        let url = json_url(URL, br#"{"property": "value", "boolean": true}"#);
        assert_eq!(
            url,
            "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
        );
        assert!(verify(
            &key(),
            &url,
            &[],
            &b64("a9nBmqA0ju/hNViExpshrM61xv4=")
        ));
        assert_eq!(body_sha256(&format!("{url}&bodySHA256=00")), Err(()));
    }
}
