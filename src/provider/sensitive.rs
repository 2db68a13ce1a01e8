//! The headers that carry credentials, for `TraceLayer` and friends, read
//! from the registry: every provider's signature headers plus the
//! credential headers no scheme declares.

use http::HeaderName;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;

use super::{ALL, VARIANTS};

/// Credential headers that are not a scheme's signature header: HTTP
/// authentication, cookies, and the static token headers of the token
/// layer's examples and of providers that send a token (GitLab's
/// `X-Gitlab-Token`, Buildkite's `X-Buildkite-Token`).
const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-gitlab-token",
    "x-buildkite-token",
    "x-webhook-token",
    "x-token",
];

/// Every request header a provider of the registry (or a named scheme
/// variant) carries a signature in, and the credential headers above:
/// marked sensitive, tower-http's `TraceLayer` (and any `Debug` of the
/// headers) prints `Sensitive` instead of the value. Lowercase, no
/// duplicates.
///
/// ```
/// let names = tower_webhook::provider::sensitive_headers();
/// assert!(names.iter().any(|name| name == "stripe-signature"));
/// assert!(names.iter().any(|name| name == "authorization"));
/// ```
pub fn sensitive_headers() -> Vec<HeaderName> {
    let mut names: Vec<HeaderName> = CREDENTIAL_HEADERS
        .iter()
        .map(|name| HeaderName::from_static(name))
        .collect();
    let schemes = ALL
        .iter()
        .map(|provider| (provider.scheme)())
        .chain(VARIANTS.iter().map(|(_, scheme)| scheme()));
    for scheme in schemes {
        for name in scheme.signature_headers() {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

/// tower-http's layer marking [`sensitive_headers`] sensitive. Put it
/// outside any `TraceLayer`.
pub fn sensitive_headers_layer() -> SetSensitiveRequestHeadersLayer {
    SetSensitiveRequestHeadersLayer::new(sensitive_headers())
}

/// [`sensitive_headers_layer`] plus the headers of your own token sources
/// (e.g. the `x-acme-token` of `TokenLayer::header("x-acme-token")`), which
/// the registry cannot know.
///
/// ```
/// use http::HeaderName;
/// use tower_webhook::provider::sensitive_headers_layer_with;
///
/// let layer = sensitive_headers_layer_with([HeaderName::from_static("x-acme-token")]);
/// # let _ = layer;
/// ```
pub fn sensitive_headers_layer_with(
    extra: impl IntoIterator<Item = HeaderName>,
) -> SetSensitiveRequestHeadersLayer {
    SetSensitiveRequestHeadersLayer::new(sensitive_headers().into_iter().chain(extra))
}
