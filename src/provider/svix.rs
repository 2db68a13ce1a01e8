//! Svix: Standard Webhooks v1 under `svix-id` / `svix-timestamp` /
//! `svix-signature`, or the unbranded `webhook-*` names. Whichever family
//! carries the signature supplies the id and timestamp too, so the two are
//! never mixed.

use std::sync::Arc;
use std::time::Duration;

use super::standard::with_names;
use super::{Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, UNDOCUMENTED};
use crate::signature::{FirstPresent, Scheme};

/// Svix: `svix-*` headers, else `webhook-*`.
pub fn svix() -> impl Scheme {
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

/// svix: what every way of building its receiver reads.
pub const SVIX: Provider = Provider {
    name: "svix",
    scheme: || Arc::new(svix()),
    signed: "svix-id (or webhook-id), its timestamp and the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "the signed svix-id (or webhook-id)",
    handshake: None,
    retry_horizon: Some(Duration::from_secs(99305)),
    retry_horizon_source: "docs.svix.com/retries: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h after the previous attempt (27 h 35 min in all)",
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "docs.svix.com/receiving/verifying-payloads/how-manual (Standard Webhooks v1 under svix-id, svix-timestamp, svix-signature)",
    vectors: Vectors::Published(&[
        "svix/svix-webhooks {python,javascript,go,ruby,php,java,kotlin,csharp} webhook tests",
        "svix/svix-webhooks csharp/Svix.Tests/WebhookTest.cs",
    ]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
