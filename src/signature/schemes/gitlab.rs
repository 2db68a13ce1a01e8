//! GitLab signing tokens: Standard Webhooks v1 under GitLab's name.

use std::sync::Arc;

use crate::signature::declared::DeclaredScheme;
use crate::signature::schemes::standard::standard_webhooks;
use crate::stack::providers::MIB;
use crate::stack::Profile;

/// GitLab signing tokens (Standard Webhooks v1 under GitLab's name). GitLab's
/// legacy `X-Gitlab-Token` is a plain token: use the token layer, or
/// [`SignatureLayer::accept_legacy_token`](crate::signature::SignatureLayer::accept_legacy_token)
/// while migrating.
pub fn gitlab() -> DeclaredScheme {
    standard_webhooks().named("gitlab")
}

/// What the provider bundle holds for gitlab: see
/// [`Profile`].
pub const PROFILE: Profile = Profile {
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
};
