//! Netlify outgoing webhooks: `X-Webhook-Signature` holds a JWS (HS256,
//! keyed with the JWS secret token set on the notification) whose claims
//! are `iss: "netlify"` and `sha256`, the hex SHA-256 of the raw body. The
//! MAC covers the token; the body is bound by the claim, checked against
//! the body received.
//!
//! No replay window applies: the claims Netlify documents are those two,
//! with no signing time (`iat`) or expiry (`exp`), and no delivery header
//! carries one, so nothing signed says when a delivery was sent. A
//! captured delivery stays valid; what limits its replay is the
//! idempotency layer, which keys on the signed body's digest (the token
//! says nothing else of the delivery) and so refuses the same body again
//! for its TTL. A time claim a token carries beyond the documented ones is
//! not read: the crate would be guessing at its meaning.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, JwsClaims, SignatureHeader};

/// netlify's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("netlify")
        .signature(SignatureHeader::jws(HeaderName::from_static(
            "x-webhook-signature",
        )))
        .jws_claims(JwsClaims::body_sha256("sha256").issuer("netlify"))
}

/// netlify: what every way of building its receiver reads.
pub const NETLIFY: Provider = Provider {
    name: "netlify",
    scheme: || Arc::new(scheme()),
    signed: "the raw body, through its SHA-256 in a signed JWS",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "docs.netlify.com/site-deploys/deploy-notifications/#payload-signature (X-Webhook-Signature: a JWS signed HS256 with the JWS secret token, claims iss netlify and sha256 of the payload; no iat or exp documented, so no signed time and no replay window)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
