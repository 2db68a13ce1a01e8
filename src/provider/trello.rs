//! Trello: `X-Trello-Webhook: <base64 HMAC-SHA1 of the raw body followed by
//! the callback URL>`, keyed with the application's secret as text. The
//! URL is the one registered for the webhook, rebuilt from the request
//! (behind a proxy that rewrites it, build the layer from
//! [`trello_scheme`](super::trello_scheme) with the public URL).
//! The body and the URL touch with nothing between: a body ending in a
//! byte a URL can hold is refused, so no bytes can move across. Trello
//! checks the callback with a `HEAD` request when the webhook is created
//! ([`Handshake::trello`]).

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::handshake::Handshake;
use crate::signature::declared::{Algorithm, DeclaredScheme, Encoding, Part, SignatureHeader};

/// Trello's scheme, with the URL rebuilt from the request. Behind a proxy
/// that rewrites scheme, host or path, set the callback URL you registered
/// with [`DeclaredScheme::public_url`] and build the layer from it:
///
/// ```
/// use std::sync::Arc;
/// use tower_webhook::provider::trello_scheme;
/// use tower_webhook::signature::PublicUrl;
/// use tower_webhook::signature::{Key, Keyring, Scheme, SignatureLayer};
///
/// let scheme = trello_scheme().public_url(PublicUrl::exact("https://hooks.example.com/trello")?);
/// let key = scheme.parse_key("trello-application-secret")?;
/// let layer = SignatureLayer::from_arc(Arc::new(scheme), Keyring::new().with(Key::new("app", key)))?;
/// # let _ = layer;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("trello")
        .signature(
            SignatureHeader::new(HeaderName::from_static("x-trello-webhook"))
                .algorithm(Algorithm::Sha1)
                .encoding(Encoding::Base64),
        )
        .message([Part::Body, Part::Url])
}

/// trello: what every way of building its receiver reads.
pub const TRELLO: Provider = Provider {
    name: "trello",
    scheme: || Arc::new(scheme()),
    signed: "the raw body and the callback URL",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: Some(|_| Ok(Handshake::trello())),
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "developer.atlassian.com/cloud/trello/guides/rest-api/webhooks/#webhook-signatures (base64 HMAC-SHA1 of body + callbackURL with the application secret; HEAD request on creation)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
