//! HubSpot request signatures.
//!
//! * **v3** ([`hubspot_v3`]): `X-HubSpot-Signature-v3: <base64>` =
//!   HMAC-SHA256 (app client secret) of
//!   `{METHOD}{URI}{body}{X-HubSpot-Request-Timestamp}`, where URI is the
//!   full public URL (`https://…`) with the percent-escapes HubSpot's docs
//!   list (`%3A` `%2F` `%3F` `%40` `%21` `%24` `%27` `%28` `%29` `%2A` `%2C`
//!   `%3B`) decoded, and the timestamp is in **milliseconds**. HubSpot's
//!   window (5 minutes, past only) is [`Scheme::tolerance`](crate::signature::Scheme::tolerance), enforced by the
//!   replay layer.
//! * **v1/v2** ([`hubspot_v1`], [`hubspot_v2`], legacy):
//!   `X-HubSpot-Signature: <hex>` with `X-HubSpot-Signature-Version: v1|v2`,
//!   a **plain SHA-256** (not an HMAC) of `{secret}{body}` (v1) or
//!   `{secret}{METHOD}{URI}{body}` (v2). **Forgeable**: SHA-256 of a
//!   secret followed by the message is open to length extension, so
//!   anyone holding one delivery and the secret's length (HubSpot's are
//!   36-character UUIDs) computes a valid signature for
//!   `body ‖ SHA-256 padding ‖ any suffix`, and there is no timestamp.
//!   By name they are only `insecure-hubspot-v1` / `insecure-hubspot-v2`
//!   ([`provider::scheme_by_name`](crate::provider::scheme_by_name), policies, the command); move the app to
//!   v3. What remains of a defence: the padding starts with the byte
//!   `0x80`, never valid UTF-8 after a complete text, and HubSpot sends
//!   JSON, so a body that is not UTF-8 is refused (`signature_malformed`)
//!   before any signature is checked ([`DeclaredScheme::utf8_body`]).
//!
//! A request carrying only the other generation's signature header is
//! judged by it (`signature_malformed`), never passed on to a legacy token.
//!
//! The URI is the public one HubSpot called: set it with
//! [`DeclaredScheme::public_url`] behind a proxy.
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
//! use tower_webhook::provider::hubspot::hubspot_v3;
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
//! assert_eq!(headers[0].1, "1693657560000");
//! assert_eq!(headers[1].1, "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=");
//! # Ok(())
//! # }
//! ```

use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{
    Algorithm, DeclaredScheme, Encoding, Part, SignatureHeader, UrlSpelling,
};
use crate::signature::scheme::Tolerance;
use crate::signature::TimestampFormat;

pub use crate::signature::declared::decode_hubspot_escapes as decode_v3_uri;

/// `X-HubSpot-Signature-v3`.
pub const SIGNATURE_V3: HeaderName = HeaderName::from_static("x-hubspot-signature-v3");
/// `X-HubSpot-Request-Timestamp` (Unix milliseconds).
pub const TIMESTAMP: HeaderName = HeaderName::from_static("x-hubspot-request-timestamp");
/// `X-HubSpot-Signature` (v1/v2).
pub const SIGNATURE_LEGACY: HeaderName = HeaderName::from_static("x-hubspot-signature");
/// `X-HubSpot-Signature-Version` (`v1` or `v2`).
pub const SIGNATURE_VERSION: HeaderName = HeaderName::from_static("x-hubspot-signature-version");

/// HubSpot v3 (current): HMAC-SHA256 of `{METHOD}{URI}{body}{timestamp}`,
/// base64.
pub fn hubspot_v3() -> DeclaredScheme {
    DeclaredScheme::new("hubspot-v3")
        .signature(SignatureHeader::new(SIGNATURE_V3).encoding(Encoding::Base64))
        .refuse_signature(SIGNATURE_LEGACY)
        .timestamp_header(TIMESTAMP, TimestampFormat::Millis)
        .message([Part::Method, Part::Url, Part::Body, Part::Timestamp])
        .url_spelling(UrlSpelling::HubSpotV3)
        .tolerance(Tolerance::past_only(Duration::from_secs(300)))
}

/// HubSpot v2 (legacy; `X-HubSpot-Signature-Version: v2`): SHA-256 of
/// `{secret}{METHOD}{URI}{body}`, hex. **Forgeable** by length extension
/// (see the [module docs](self)); bodies that are not UTF-8 are refused.
pub fn hubspot_v2() -> DeclaredScheme {
    legacy("hubspot-v2", "v2").message([Part::Method, Part::Url, Part::Body])
}

/// HubSpot v1 (legacy CRM webhooks; `X-HubSpot-Signature-Version: v1`):
/// SHA-256 of `{secret}{body}`, hex. **Forgeable** by length extension
/// (see the [module docs](self)); bodies that are not UTF-8 are refused.
pub fn hubspot_v1() -> DeclaredScheme {
    legacy("hubspot-v1", "v1")
}

fn legacy(name: &'static str, version: &'static str) -> DeclaredScheme {
    DeclaredScheme::new(name)
        .signature(
            SignatureHeader::new(SIGNATURE_LEGACY)
                .algorithm(Algorithm::SecretPrefixedSha256)
                .requires(SIGNATURE_VERSION, version),
        )
        .refuse_signature(SIGNATURE_V3)
        .utf8_body()
}

/// hubspot-v3: what every way of building its receiver reads.
pub const HUBSPOT: Provider = Provider {
    name: "hubspot-v3",
    scheme: || Arc::new(hubspot_v3()),
    signed: "the method, URL, raw body and X-HubSpot-Request-Timestamp",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none (the body is a batch of events): the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "developers.hubspot.com/docs/api/webhooks/validating-requests (X-HubSpot-Signature-v3: <base64 HMAC-SHA256 of method, URI, body, timestamp>; 5 minutes)",
    vectors: Vectors::Published(&[
        "HubSpot/hubspot-api-python tests/spec/utils/test_signature.py",
    ]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::sync::Arc;

    use super::*;
    use crate::signature::{Outgoing, Scheme, Signer};

    const BODY: &[u8] = b"{'example_field':'example_value'}";
    const URI: &str = "https://www.example.com/webhook_uri";

    /// The signature header's value `scheme` sends for `BODY` to `URI`.
    fn signature(scheme: DeclaredScheme, timestamp: i64) -> String {
        let key = scheme
            .parse_key("yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy")
            .unwrap();
        let headers = Signer::new(Arc::new(scheme), key)
            .sign(&Outgoing::new(BODY, timestamp, "").to_url(URI))
            .unwrap();
        let (_, value) = headers
            .iter()
            .find(|(name, _)| *name == SIGNATURE_V3 || *name == SIGNATURE_LEGACY)
            .unwrap();
        value.to_str().unwrap().to_owned()
    }

    #[test]
    fn official_sdk_vectors() {
        // HubSpot/hubspot-api-python tests/spec/utils/test_signature.py
        assert_eq!(
            signature(hubspot_v1(), 0),
            "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750"
        );
        assert_eq!(
            signature(hubspot_v2(), 0),
            "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383"
        );
        assert_eq!(
            signature(hubspot_v3(), 1_693_657_560),
            "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y="
        );
        assert_ne!(
            signature(hubspot_v3(), 1_693_657_561),
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
