//! Vercel: `x-vercel-signature: <hex HMAC-SHA1 of the raw body>`, keyed
//! with the webhook's secret (an account webhook) or the integration's
//! client secret (an integration's), as text. Drains sign the same way with
//! the drain's signature secret.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{Algorithm, DeclaredScheme, SignatureHeader};

/// vercel's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("vercel").signature(
        SignatureHeader::new(HeaderName::from_static("x-vercel-signature"))
            .algorithm(Algorithm::Sha1),
    )
}

/// vercel: what every way of building its receiver reads.
pub const VERCEL: Provider = Provider {
    name: "vercel",
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
    scheme_source: "vercel.com/docs/webhooks/webhooks-api#securing-webhooks (x-vercel-signature: hex HMAC-SHA1 of the raw body keyed with the webhook secret, or an integration's client secret), as quoted in the docs' own Next.js example",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
