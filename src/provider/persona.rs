//! Persona: `Persona-Signature: t=<unix s>,v1=<hex>`, an HMAC-SHA256 of
//! `{t}.{body}` keyed with the webhook secret as text.
//!
//! While a secret rotates Persona sends two such sets, space-separated
//! (`t=…,v1=<old> t=…,v1=<new>`). Each set's `v1` signs its own `t`: the
//! delivery verifies when any set's signature does under a configured key,
//! and the replay window holds the `t` of the set that verified. Configure
//! the old or the new secret (or both, as a keyring) for the rotation.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, Part, SignatureHeader};
use crate::signature::TimestampFormat;

/// persona's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("persona")
        .signature(
            SignatureHeader::new(HeaderName::from_static("persona-signature"))
                .fields(',', "v1")
                .field_sets(' '),
        )
        .timestamp_field("t", TimestampFormat::Seconds)
        .message([Part::Timestamp, Part::literal("."), Part::Body])
}

/// persona: what every way of building its receiver reads.
pub const PERSONA: Provider = Provider {
    name: "persona",
    scheme: || Arc::new(scheme()),
    signed: "the t= timestamp and the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "docs.withpersona.com/docs/webhooks-best-practices#checking-signatures (Persona-Signature `t=<unix_timestamp>,v1=<signature>`, hex HMAC-SHA256 of \"#{t}.#{body}\" keyed with the webhook secret; \"It's possible to have more than one valid signature for a webhook if its secrets are in the process of rotating ... the Persona-Signature header will contain two space-separated sets of the key-value pairs described above\"; no window documented)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
