//! Svix: Standard Webhooks v1 under `svix-id` / `svix-timestamp` /
//! `svix-signature`, or the unbranded `webhook-*` names. Whichever family
//! carries the signature supplies the id and timestamp too, so the two are
//! never mixed.

use std::sync::Arc;

use crate::signature::either::FirstPresent;
use crate::signature::schemes::standard::with_names;

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
