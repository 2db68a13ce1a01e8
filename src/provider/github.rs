//! github: see [`GITHUB`].

use std::sync::Arc;

use super::{Provider, Sent, Vectors, MIB};
use crate::signature::schemes;

/// github: what every way of building its receiver reads.
pub const GITHUB: Provider = Provider {
    name: "github",
    scheme: || Arc::new(schemes::github()),
    signed: "the raw body",
    unsigned_headers: &[
        "x-github-event",
        "x-github-delivery",
        "x-github-hook-id",
        "x-github-hook-installation-target-id",
        "x-github-hook-installation-target-type",
    ],
    body_limit: 25 * MIB,
    body_limit_source:
        "GitHub docs, \"About webhook events and payloads\": payloads are capped at 25 MB",
    delivery_id: "none signed (X-GitHub-Delivery is not): the signed body's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: "docs.github.com/en/webhooks/using-webhooks/handling-failed-webhook-deliveries: GitHub does not redeliver failed deliveries automatically",
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries (X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>, key the secret as text)",
    vectors: Vectors::Published(&[
        "github/docs content/webhooks/using-webhooks/validating-webhook-deliveries.md",
        "octokit/webhooks-methods.js test/verify.test.ts",
    ]),
    ip_ranges: &["192.30.252.0/22", "185.199.108.0/22", "140.82.112.0/20", "143.55.64.0/20", "2a0a:a440::/29", "2606:50c0::/32", "9.234.98.160/28", "9.234.98.176/28", "9.234.106.48/28"],
    ip_ranges_source: "the `hooks` field of api.github.com/meta (docs.github.com/articles/about-github-s-ip-addresses); the last three /28 from github.blog/changelog/2026-10-29-webhook-ip-ranges-added-to-the-meta-api. The list changes: fetch /meta rather than copying this one",
    sends: &[
        ("x-github-delivery", Sent::DeliveryId),
        ("x-github-event", Sent::Fixed("ping")),
        ("x-github-hook-id", Sent::Fixed("1")),
        ("user-agent", Sent::Fixed("GitHub-Hookshot/test")),
    ],
    requires: &[],
};
