//! GitLab signing tokens: Standard Webhooks v1 under GitLab's name.

use std::sync::Arc;

use super::standard::standard_webhooks;
use super::{Provider, Sent, Vectors, MIB, NO_IP_RANGES, NO_RETRIES_DOCUMENTED};
use crate::signature::declared::DeclaredScheme;

/// GitLab signing tokens (Standard Webhooks v1 under GitLab's name). GitLab's
/// legacy `X-Gitlab-Token` is a plain token: use the token layer, or
/// [`SignatureLayer::accept_legacy_token`](crate::signature::SignatureLayer::accept_legacy_token)
/// while migrating.
pub fn gitlab() -> DeclaredScheme {
    standard_webhooks().named("gitlab")
}

/// gitlab: what every way of building its receiver reads.
pub const GITLAB: Provider = Provider {
    name: "gitlab",
    scheme: || Arc::new(gitlab()),
    signed: "webhook-id, webhook-timestamp and the raw body (Standard Webhooks v1)",
    unsigned_headers: &[
        "x-gitlab-event",
        "x-gitlab-event-uuid",
        "x-gitlab-webhook-uuid",
        "x-gitlab-instance",
        "idempotency-key",
    ],
    body_limit: 25 * MIB,
    body_limit_source: "gitlab-org/gitlab MR 38687: webhooks whose JSON exceeds 25 MB are not sent",
    delivery_id: "the signed webhook-id",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "docs.gitlab.com/user/project/integrations/webhooks (signing token: Standard Webhooks v1 under webhook-id, webhook-timestamp, webhook-signature)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[
        ("x-gitlab-event", Sent::Fixed("Push Hook")),
        ("x-gitlab-event-uuid", Sent::DeliveryId),
        ("idempotency-key", Sent::DeliveryId),
    ],
    requires: &[],
};
