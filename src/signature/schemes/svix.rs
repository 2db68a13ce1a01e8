//! Svix: Standard Webhooks v1 under `svix-id` / `svix-timestamp` /
//! `svix-signature`, or the unbranded `webhook-*` names. Whichever family
//! carries the signature supplies the id and timestamp too, so the two are
//! never mixed.

use std::sync::Arc;

use crate::body::DEFAULT_BODY_LIMIT;
use crate::signature::either::FirstPresent;
use crate::signature::schemes::standard::with_names;
use crate::stack::providers::UNDOCUMENTED;
use crate::stack::Profile;

/// Svix: `svix-*` headers, else `webhook-*`.
pub fn svix() -> FirstPresent {
    FirstPresent::new(
        "svix",
        vec![
            Arc::new(with_names(
                "svix",
                "svix-id",
                "svix-timestamp",
                "svix-signature",
            )),
            Arc::new(with_names(
                "svix",
                "webhook-id",
                "webhook-timestamp",
                "webhook-signature",
            )),
        ],
    )
}

/// What the provider bundle holds for svix: see
/// [`Profile`].
pub const PROFILE: Profile = Profile {
    name: "svix",
    scheme: || Arc::new(svix()),
    signed: "svix-id (or webhook-id), its timestamp and the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the signed svix-id (or webhook-id)",
    handshake: None,
};
