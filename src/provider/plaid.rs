//! Plaid: `Plaid-Verification` holds a JWT signed ES256 (ECDSA P-256)
//! whose claims are `iat` (signing time, Unix seconds) and
//! `request_body_sha256` (the hex SHA-256 of the raw body). The public key
//! is a JSON Web Key from Plaid's `/webhook_verification_key/get`, by the
//! token's `kid`; give each current key to the keyring (all are tried; the
//! crate does not call Plaid's API). A token older than five minutes is
//! refused.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{
    Algorithm, DeclaredScheme, JwsClaims, KeyEncoding, SignatureHeader,
};
use crate::signature::scheme::Tolerance;

/// plaid's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("plaid")
        .signature(
            SignatureHeader::jws(HeaderName::from_static("plaid-verification"))
                .algorithm(Algorithm::EcdsaP256Sha256),
        )
        .jws_claims(JwsClaims::body_sha256("request_body_sha256").issued_at("iat"))
        .key_encoding(KeyEncoding::JwkP256)
        .tolerance(Tolerance::past_only(Duration::from_secs(300)))
}

/// plaid: what every way of building its receiver reads.
pub const PLAID: Provider = Provider {
    name: "plaid",
    scheme: || Arc::new(scheme()),
    signed: "the raw body, through its SHA-256 in an ES256 JWT, and the JWT's iat",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "plaid.com/docs/api/webhooks/webhook-verification/ (Plaid-Verification: a JWT, alg ES256, kid naming the key from /webhook_verification_key/get; claims iat, rejected when more than 5 minutes old, and request_body_sha256)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
