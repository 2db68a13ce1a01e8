//! Vonage signed webhooks (Messages and Voice API callbacks):
//! `Authorization: Bearer <JWT>`, signed HS256 with the account's signature
//! secret as text, whose `payload_hash` claim is the hex SHA-256 of the raw
//! body. Vonage calls checking the hash optional; here it is required, or
//! the token would authenticate no part of the delivery. The older signed
//! SMS parameters (`sig`, HMAC-MD5 by default) are not this scheme.
//!
//! The token also carries `iat` (when Vonage signed it) and `jti` (the
//! token's own id), both inside the MAC: the replay window holds `iat`
//! (Vonage documents no window, so the stack's default one) and the
//! idempotency layer keys on `jti`, never on an unsigned header. A token
//! without either is refused. Vonage signs each request anew, so a retry
//! carries a fresh `jti`: what `jti` deduplicates is the same token sent
//! twice.

use std::sync::Arc;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, JwsClaims, SignatureHeader};

/// vonage's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("vonage")
        .signature(SignatureHeader::jws(http::header::AUTHORIZATION).jws_prefix("Bearer "))
        .jws_claims(
            JwsClaims::body_sha256("payload_hash")
                .issued_at("iat")
                .id("jti"),
        )
}

/// vonage: what every way of building its receiver reads.
pub const VONAGE: Provider = Provider {
    name: "vonage",
    scheme: || Arc::new(scheme()),
    signed: "the raw body, through its SHA-256 in a signed JWT, with the token's iat and jti",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the signed token's jti claim (one per token)",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "developer.vonage.com/en/messages/concepts/signed-webhooks (a JWT in the Authorization header signed with the signature secret, SHA-256; payload_hash: the SHA-256 of the payload); Vonage/vonage-python-sdk jwt/src/vonage_jwt/verify_jwt.py (decode(token, signature_secret, algorithms='HS256')); Nexmo/station _documentation/en/messages/concepts/signed-webhooks.md (signing \"defends against interception and later replay\"); developer.vonage.com/en/blog/validating-inbound-messages-from-the-vonage-messages-api-dr (the token's claims: iat, jti, iss \"Vonage\", payload_hash, api_key, application_id; a stale iat is refused)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
