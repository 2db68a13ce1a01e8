//! The headers that carry credentials, for `TraceLayer` and friends.

use http::HeaderName;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;

/// The (lowercase) name of every request header a preset or token source reads a secret, token or
/// signature from. Marked sensitive, tower-http's `TraceLayer` (and any
/// `Debug` of the headers) prints `Sensitive` instead of the value.
pub const SENSITIVE_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-hub-signature",
    "x-hub-signature-256",
    "x-gitlab-token",
    "x-webhook-token",
    "x-token",
    "stripe-signature",
    "x-slack-signature",
    "webhook-signature",
    "svix-signature",
    "x-shopify-hmac-sha256",
    "paddle-signature",
    "x-twilio-signature",
    "x-twilio-email-event-webhook-signature",
    "x-square-hmacsha256-signature",
    "x-square-signature",
    "linear-signature",
    "x-zm-signature",
    "twitch-eventsub-message-signature",
    "x-signature-ed25519",
    "typeform-signature",
    "x-hubspot-signature",
    "x-hubspot-signature-v3",
    "x-dropbox-signature",
    "x-signature",
    "x-signature-sha256",
    // The providers added from research/ (issue 22).
    "box-signature-primary",
    "box-signature-secondary",
    "x-razorpay-signature",
    "x-cc-webhook-signature",
    "hmacsignature",
    "mux-signature",
    "x-pagerduty-signature",
    "x-buildkite-signature",
    "x-buildkite-token",
    "sanity-webhook-signature",
    "x-pusher-signature",
    "x-orb-signature",
    "finch-signature",
    "x-airtable-content-mac",
    "x-zendesk-webhook-signature",
    "calendly-webhook-signature",
    "workos-signature",
    "x-xero-signature",
    "sentry-hook-signature",
    "x-twitter-webhooks-signature",
    "x-trello-webhook",
    "x-webhook-signature",
    "plaid-verification",
    "x-hook-signature",
    // Asana's signing key itself, sent in its handshake.
    "x-hook-secret",
];

/// tower-http's layer marking [`SENSITIVE_HEADERS`] sensitive. Put it
/// outside any `TraceLayer`.
pub fn sensitive_headers_layer() -> SetSensitiveRequestHeadersLayer {
    SetSensitiveRequestHeadersLayer::new(
        SENSITIVE_HEADERS
            .iter()
            .map(|name| HeaderName::from_static(name)),
    )
}

/// [`sensitive_headers_layer`] plus the headers of your own token sources
/// (e.g. the `x-acme-token` of `TokenLayer::header("x-acme-token")`), which
/// [`SENSITIVE_HEADERS`] cannot know.
///
/// ```
/// use http::HeaderName;
/// use tower_webhook::audit::sensitive_headers_layer_with;
///
/// let layer = sensitive_headers_layer_with([HeaderName::from_static("x-acme-token")]);
/// # let _ = layer;
/// ```
pub fn sensitive_headers_layer_with(
    extra: impl IntoIterator<Item = HeaderName>,
) -> SetSensitiveRequestHeadersLayer {
    SetSensitiveRequestHeadersLayer::new(
        SENSITIVE_HEADERS
            .iter()
            .map(|name| HeaderName::from_static(name))
            .chain(extra),
    )
}
