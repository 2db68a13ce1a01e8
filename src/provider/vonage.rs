//! Vonage signed webhooks (Messages and Voice API callbacks):
//! `Authorization: Bearer <JWT>`, signed HS256 with the account's signature
//! secret as text, whose `payload_hash` claim is the hex SHA-256 of the raw
//! body. Vonage calls checking the hash optional; here it is required, or
//! the token would authenticate no part of the delivery. The older signed
//! SMS parameters (`sig`, HMAC-MD5 by default) are not this scheme.

use std::sync::Arc;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, JwsClaims, SignatureHeader};

/// vonage's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("vonage")
        .signature(SignatureHeader::jws(http::header::AUTHORIZATION).jws_prefix("Bearer "))
        .jws_claims(JwsClaims::body_sha256("payload_hash"))
}

/// vonage: what every way of building its receiver reads.
pub const VONAGE: Provider = Provider {
    name: "vonage",
    scheme: || Arc::new(scheme()),
    signed: "the raw body, through its SHA-256 in a signed JWT",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "developer.vonage.com/en/messages/concepts/signed-webhooks (a JWT in the Authorization header signed with the signature secret, SHA-256; payload_hash: the SHA-256 of the payload); Vonage/vonage-python-sdk jwt/src/vonage_jwt/verify_jwt.py (decode(token, signature_secret, algorithms='HS256'))",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
