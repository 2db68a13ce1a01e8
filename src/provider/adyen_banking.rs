//! Adyen's Balance Platform (banking) and Management webhooks: `HmacSignature:
//! <base64 HMAC-SHA256 of the raw body>`, keyed with the HMAC key the
//! Customer Area shows, hex-decoded. Adyen's standard (payment)
//! notifications are not this: they sign eight fields of the item inside
//! the body ([`ADYEN`](super::ADYEN)).

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, Encoding, KeyEncoding, SignatureHeader};

/// adyen-banking's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("adyen-banking")
        .signature(
            SignatureHeader::new(HeaderName::from_static("hmacsignature"))
                .encoding(Encoding::Base64),
        )
        .key_encoding(KeyEncoding::Hex)
}

/// adyen-banking: what every way of building its receiver reads.
pub const ADYEN_BANKING: Provider = Provider {
    name: "adyen-banking",
    scheme: || Arc::new(scheme()),
    signed: "the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "Adyen/adyen-python-api-library Adyen/util.py is_valid_hmac_payload (base64 HMAC-SHA256 of the payload, key binascii.a2b_hex); the header name HmacSignature from docs.adyen.com/development-resources/webhooks/secure-webhooks/verify-hmac-signatures and Adyen's gcatanese/AfPWebhooks README",
    vectors: Vectors::Published(&["Adyen/adyen-python-api-library test/UtilTest.py"]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
