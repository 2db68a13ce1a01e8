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
//! [`DeclaredScheme::public_url`] when a proxy rewrites scheme, host, port or path.
//! There is no timestamp: replay protection comes only from idempotency
//! (`I-Twilio-Idempotency-Token`).
//!
//! The parameters are decoded and sorted once per request, not once per
//! key, and a form with more than 1,024 parameters is refused
//! as `payload_too_large` before any of that work.
//!
//! **What the signature cannot authenticate: the parameter boundaries.**
//! Twilio concatenates names and values with no separator, so `a=bc` and
//! `ab=c` sign alike, and a captured `Body=Hi&From=+1415…` verifies as
//! `Body=HiFrom+1415…` (`From` gone). Treat the parameters as
//! unauthenticated structure: check that the ones you expect are there
//! (and no others), read them by name, and key anything on the flat
//! message, as the idempotency layer does
//! ([`SignedMessage::signed_message`](crate::context::SignedMessage::signed_message)):
//! every re-split of one delivery is that delivery.
//!
//! ```
//! use tower_webhook::signature::PublicUrl;
//! use tower_webhook::provider::twilio::twilio;
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

use std::sync::Arc;

use http::HeaderName;
use sha2::{Digest, Sha256};

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{Algorithm, DeclaredScheme, Encoding, Part, SignatureHeader};

pub use crate::signature::declared::sorted_params;

/// `X-Twilio-Signature`.
pub const SIGNATURE: HeaderName = HeaderName::from_static("x-twilio-signature");

/// The query parameter carrying the body's SHA-256 in the JSON variant.
pub const BODY_SHA256: &str = "bodySHA256";

/// Twilio: HMAC-SHA1 of the URL and the sorted form parameters, base64,
/// either port spelling. The URL is rebuilt from the request
/// ([`PublicUrl::from_request`]) unless set with
/// [`DeclaredScheme::public_url`] behind a proxy.
///
/// [`PublicUrl::from_request`]: crate::signature::public_url::PublicUrl::from_request
pub fn twilio() -> DeclaredScheme {
    DeclaredScheme::new("twilio")
        .signature(
            SignatureHeader::new(SIGNATURE)
                .algorithm(Algorithm::Sha1)
                .encoding(Encoding::Base64),
        )
        .message([Part::Url, Part::FormParams])
        .either_port_spelling()
        .body_sha256_query(BODY_SHA256)
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

/// twilio: what every way of building its receiver reads.
pub const TWILIO: Provider = Provider {
    name: "twilio",
    scheme: || Arc::new(twilio()),
    signed: "the URL Twilio called and the form parameters (or the body's SHA-256 in the URL)",
    unsigned_headers: &["i-twilio-idempotency-token"],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none signed (I-Twilio-Idempotency-Token is not): the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "www.twilio.com/docs/usage/webhooks/webhooks-security (X-Twilio-Signature: <base64 HMAC-SHA1 of the URL and sorted form parameters>)",
    vectors: Vectors::Published(&[
        "twilio/twilio-python tests/unit/test_request_validator.py",
    ]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;

    use super::*;
    use crate::signature::{Delivery, Scheme};

    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const FORM: &[u8] = b"CallSid=CA1234567890ABCDE&Digits=1234&From=%2B14158675309&To=%2B18005551212&Caller=%2B14158675309";

    /// Whether `signature` verifies for a request Twilio made to `url`
    /// with `form`, through the scheme's three phases.
    fn verify(url: &str, form: &[u8], signature: &str) -> bool {
        let scheme = twilio();
        let key = scheme.parse_key("12345").unwrap();
        let (parts, ()) = http::Request::post(url)
            .header(SIGNATURE, signature)
            .body(())
            .unwrap()
            .into_parts();
        let Ok(signatures) = scheme
            .parse_head(&parts)
            .and_then(|signatures| scheme.parse_body(signatures, &parts, form))
        else {
            return false;
        };
        let delivery = Delivery {
            parts: &parts,
            body: form,
        };
        scheme.verify(&key, &signatures, &delivery).is_some()
    }

    #[test]
    fn official_form_vector() {
        // twilio/twilio-python tests/unit/test_request_validator.py
        assert!(verify(URL, FORM, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
        assert!(!verify(
            "https://mycompany.com/myapp.php?foo=1&bar=3",
            FORM,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
    }

    #[test]
    fn repeated_pairs_are_sorted_and_counted_once() {
        let form = b"Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234";
        let flat: Vec<_> = sorted_params(form)
            .iter()
            .map(|(n, v)| format!("{n}{v}"))
            .collect();
        assert_eq!(
            flat,
            ["Digits1234", "Digits5678", "SidCA123", "SidAccountAC123"]
        );
        assert!(verify(URL, form, "IK+Dwps556ElfBT0I3Rgjkr1wJU="));
    }

    #[test]
    fn either_port_spelling_verifies() {
        // Signed with :443, seen without.
        assert!(verify(URL, FORM, "kvajT1Ptam85bY51eRf/AJRuM3w="));
        // Signed with :80, seen without.
        assert!(verify(
            "http://mycompany.com/myapp.php?foo=1&bar=2",
            FORM,
            "0ZXoZLH/DfblKGATFgpif+LLRf4="
        ));
        // Signed with :1234, seen without: no spelling adds a port that is
        // not the default.
        assert!(!verify(
            "http://mycompany.com/myapp.php?foo=1&bar=2",
            FORM,
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="
        ));
    }

    #[test]
    fn a_non_standard_port_is_removed_as_the_sdks_do() {
        // twilio-python test_validation_removes_port_on_https: the
        // receiver's URL has :1234, Twilio signed it without.
        assert!(verify(
            "https://mycompany.com:1234/myapp.php?foo=1&bar=2",
            FORM,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        // test_validation_removes_port_on_http: signed with :1234 and seen
        // with it.
        assert!(verify(
            "http://mycompany.com:1234/myapp.php?foo=1&bar=2",
            FORM,
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="
        ));
    }

    #[test]
    fn json_url_appends_the_body_hash() {
        let body = br#"{"property": "value", "boolean": true}"#;
        let url = json_url(URL, body);
        assert_eq!(
            url,
            "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
        );
        assert!(verify(&url, body, "a9nBmqA0ju/hNViExpshrM61xv4="));
        // Another body than the hash says, or the hash given twice.
        assert!(!verify(&url, b"{}", "a9nBmqA0ju/hNViExpshrM61xv4="));
        assert!(!verify(
            &format!("{url}&bodySHA256=00"),
            body,
            "a9nBmqA0ju/hNViExpshrM61xv4="
        ));
        assert_eq!(
            STANDARD
                .decode("a9nBmqA0ju/hNViExpshrM61xv4=")
                .unwrap()
                .len(),
            20
        );
    }
}
