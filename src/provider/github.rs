//! GitHub: `X-Hub-Signature-256: sha256=<hex>` over the raw body; the legacy
//! `X-Hub-Signature: sha1=<hex>` only when asked for.

use std::sync::Arc;

use http::HeaderName;

use super::{Provider, Sent, Vectors, MIB};
use crate::signature::declared::{Algorithm, DeclaredScheme, SignatureHeader};

const SHA256: HeaderName = HeaderName::from_static("x-hub-signature-256");
const SHA1: HeaderName = HeaderName::from_static("x-hub-signature");

/// GitHub (and GitHub Enterprise Server): HMAC-SHA256 of the raw body. A
/// request carrying only the legacy SHA-1 header is judged by it
/// (`signature_malformed`), never read as unsigned.
pub fn github() -> DeclaredScheme {
    DeclaredScheme::new("github")
        .signature(SignatureHeader::new(SHA256).prefix("sha256="))
        .refuse_signature(SHA1)
}

/// GitHub with the legacy SHA-1 header accepted when the SHA-256 one is
/// absent (old GitHub Enterprise Server). When both are sent only SHA-256
/// is checked, so an attacker gains nothing by stripping it... except on
/// hooks that never send it, which is why this is opt-in.
pub fn github_with_sha1() -> DeclaredScheme {
    github().named("github-sha1").signature(
        SignatureHeader::new(SHA1)
            .prefix("sha1=")
            .algorithm(Algorithm::Sha1),
    )
}

/// Only the legacy `X-Hub-Signature: sha1=<hex>` (what `sign --scheme
/// github-sha1` produces).
pub fn github_sha1_only() -> DeclaredScheme {
    DeclaredScheme::new("github-sha1").signature(
        SignatureHeader::new(SHA1)
            .prefix("sha1=")
            .algorithm(Algorithm::Sha1),
    )
}

/// The source ranges GitHub sends webhooks from: the `hooks` list of its
/// meta API (`GET https://api.github.com/meta`), as published when this
/// release was made (the three `/28` were added on 2026-10-29:
/// github.blog/changelog/2026-10-29-webhook-ip-ranges-added-to-the-meta-api).
/// GitHub changes them rarely and announces it; compare with the API before
/// relying on them. Required by
/// [`WebhookStack::insecure_key_on_github_delivery`](crate::WebhookStack::insecure_key_on_github_delivery).
pub const GITHUB_HOOK_RANGES: &str = "192.30.252.0/22, 185.199.108.0/22, 140.82.112.0/20, \
     143.55.64.0/20, 2a0a:a440::/29, 2606:50c0::/32, 9.234.98.160/28, 9.234.98.176/28, \
     9.234.106.48/28";

/// github: what every way of building its receiver reads.
pub const GITHUB: Provider = Provider {
    name: "github",
    scheme: || Arc::new(github()),
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
