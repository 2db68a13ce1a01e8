//! GitLab signing tokens: Standard Webhooks v1 under GitLab's name.

use crate::signature::declared::DeclaredScheme;
use crate::signature::schemes::standard::standard_webhooks;

/// GitLab signing tokens (Standard Webhooks v1 under GitLab's name). GitLab's
/// legacy `X-Gitlab-Token` is a plain token: use the token layer, or
/// [`SignatureLayer::accept_legacy_token`](crate::signature::SignatureLayer::accept_legacy_token)
/// while migrating.
pub fn gitlab() -> DeclaredScheme {
    standard_webhooks().named("gitlab")
}
