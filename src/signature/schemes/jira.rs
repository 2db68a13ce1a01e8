//! Jira Cloud / Atlassian admin webhooks with a secret:
//! `X-Hub-Signature: sha256=<hex>` over the raw body (WebSub format).

use http::HeaderName;

use crate::signature::declared::{DeclaredScheme, SignatureHeader};

/// Jira: HMAC-SHA256 of the raw body, hex, `sha256=` prefix.
pub fn jira() -> DeclaredScheme {
    DeclaredScheme::new("jira").signature(
        SignatureHeader::new(HeaderName::from_static("x-hub-signature")).prefix("sha256="),
    )
}
