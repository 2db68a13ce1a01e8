//! Okta event hooks: no signature. Every delivery carries, in
//! `Authorization`, the secret value configured for the hook, compared here
//! in constant time; nothing of the request is covered, so a captured
//! delivery can be re-sent with any body and deliveries are not
//! deduplicated on their (unsigned) content. Okta checks the endpoint once
//! with a `GET` carrying `X-Okta-Verification-Challenge`
//! ([`Handshake::okta`]).

use std::sync::Arc;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::handshake::Handshake;
use crate::signature::declared::{Algorithm, DeclaredScheme, SignatureHeader};

/// okta's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("okta")
        .signature(
            SignatureHeader::new(http::header::AUTHORIZATION).algorithm(Algorithm::HeaderSecret),
        )
        .message([])
}

/// okta: what every way of building its receiver reads.
pub const OKTA: Provider = Provider {
    name: "okta",
    scheme: || Arc::new(scheme()),
    signed: "nothing: Authorization carries the shared secret itself",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none signed: not deduplicated",
    handshake: Some(|_| Ok(Handshake::okta())),
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: false,
    body_timestamp: None,
    scheme_source: "developer.okta.com/docs/concepts/event-hooks/ (authorization header with the secret configured for the hook; one-time verification GET with X-Okta-Verification-Challenge answered {\"verification\": <value>})",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
