//! Recurly: `recurly-signature: <unix ms>,<hex>[,<hex>…]`, each an
//! HMAC-SHA256 of `{ms}.{body}` keyed with the endpoint's shared secret as
//! text (one per secret while it rotates); five minutes either way.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, Part, SignatureHeader};
use crate::signature::scheme::Tolerance;
use crate::signature::TimestampFormat;

/// recurly's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("recurly")
        .signature(SignatureHeader::new(HeaderName::from_static("recurly-signature")).list(',', ""))
        .timestamp_first_entry(TimestampFormat::Millis)
        .message([Part::Timestamp, Part::literal("."), Part::Body])
        .tolerance(Tolerance::symmetric(Duration::from_secs(300)))
}

/// recurly: what every way of building its receiver reads.
pub const RECURLY: Provider = Provider {
    name: "recurly",
    scheme: || Arc::new(scheme()),
    signed: "the millisecond timestamp (first entry of recurly-signature) and the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "recurly/recurly-client-ruby lib/recurly/webhooks.rb verify_signature (header split on `,`: timestamp in ms, then signatures; hex HMAC-SHA256 of \"#{timestamp}.#{body}\"; DEFAULT_TOLERANCE 5 min, either way)",
    vectors: Vectors::Published(&["recurly/recurly-client-ruby spec/recurly/webhooks_spec.rb"]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
