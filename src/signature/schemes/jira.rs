//! Jira Cloud / Atlassian admin webhooks with a secret:
//! `X-Hub-Signature: sha256=<hex>` over the raw body (WebSub format).

use std::sync::Arc;

use http::HeaderName;

use crate::body::DEFAULT_BODY_LIMIT;
use crate::signature::declared::{DeclaredScheme, SignatureHeader};
use crate::stack::providers::UNDOCUMENTED;
use crate::stack::Profile;

/// Jira: HMAC-SHA256 of the raw body, hex, `sha256=` prefix.
pub fn jira() -> DeclaredScheme {
    DeclaredScheme::new("jira").signature(
        SignatureHeader::new(HeaderName::from_static("x-hub-signature")).prefix("sha256="),
    )
}

/// What the provider bundle holds for jira: see
/// [`Profile`].
pub const PROFILE: Profile = Profile {
    name: "jira",
    scheme: || Arc::new(jira()),
    signed: "the raw body",
    unsigned_headers: &[
        "x-atlassian-webhook-identifier",
        "x-atlassian-webhook-retry",
        "x-atlassian-webhook-flow",
    ],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none signed (X-Atlassian-Webhook-Identifier is not): the signed body's digest",
    handshake: None,
};
