//! X (Twitter) Account Activity API: `x-twitter-webhooks-signature:
//! sha256=<base64 HMAC-SHA256 of the raw body>`, keyed with the app's
//! consumer secret as text. The challenge-response check (CRC) is a
//! `GET ?crc_token=…` answered with the same key's HMAC of the token
//! ([`Handshake::x_crc`]); because that answer is a MAC of a value anyone
//! picks, the scheme accepts only bodies starting with `{` (X sends JSON
//! objects) and the CRC never answers a token starting with `{`.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::handshake::Handshake;
use crate::secret::Secret;
use crate::signature::declared::{DeclaredScheme, Encoding, SignatureHeader};

/// x's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("x")
        .signature(
            SignatureHeader::new(HeaderName::from_static("x-twitter-webhooks-signature"))
                .prefix("sha256=")
                .encoding(Encoding::Base64),
        )
        .json_object_body()
}

/// x: what every way of building its receiver reads.
pub const X: Provider = Provider {
    name: "x",
    scheme: || Arc::new(scheme()),
    signed: "the raw body (a JSON object)",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: Some(|consumer_secret| Secret::new(consumer_secret).map(Handshake::x_crc)),
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "developer.x.com/en/docs/x-api/enterprise/account-activity-api/guides/securing-webhooks (CRC: GET crc_token, response_token sha256=<base64 HMAC-SHA256(consumer secret, crc_token)> as JSON; POST: x-twitter-webhooks-signature sha256=<base64 HMAC-SHA256(consumer secret, body)>)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
