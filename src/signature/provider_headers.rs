//! The headers a provider sends beside its signature: delivery ids, event
//! names, retry counters. Verification does not need them, but handlers
//! (and idempotency keyed on a delivery header) do, so a signed test request
//! should look like the real thing.
//!
//! Values that depend on the event (GitHub's `X-GitHub-Event`, Shopify's
//! topic) get a harmless default: the provider's own "ping"-like event
//! where it has one. Headers the scheme's own `sign` already writes (Slack's
//! timestamp, Standard Webhooks' `webhook-id`) are not repeated here.

use http::{HeaderName, HeaderValue};

use crate::signature::scheme::{Outgoing, SignedHeaders};

/// The extra headers preset `scheme` (by [`Scheme::name`]) sends with
/// `outgoing`; none for a scheme this table does not know.
///
/// [`Scheme::name`]: crate::signature::Scheme::name
pub(crate) fn provider_headers(scheme: &str, outgoing: &Outgoing<'_>) -> SignedHeaders {
    let id = outgoing.id;
    let fixed: &[(&'static str, &str)] = match scheme {
        "github" | "github-sha1" => &[
            ("x-github-delivery", id),
            ("x-github-event", "ping"),
            ("x-github-hook-id", "1"),
            ("user-agent", "GitHub-Hookshot/test"),
        ],
        "gitlab" => &[
            ("x-gitlab-event", "Push Hook"),
            ("x-gitlab-event-uuid", id),
            ("idempotency-key", id),
        ],
        "bitbucket" => &[
            ("x-event-key", "repo:push"),
            ("x-request-uuid", id),
            ("x-attempt-number", "1"),
        ],
        "jira" => &[
            ("x-atlassian-webhook-identifier", id),
            ("x-atlassian-webhook-retry", "0"),
        ],
        "shopify" => &[
            ("x-shopify-topic", "orders/create"),
            ("x-shopify-webhook-id", id),
            ("x-shopify-event-id", id),
            ("x-shopify-shop-domain", "example.myshopify.com"),
        ],
        "linear" => &[("linear-delivery", id), ("linear-event", "Issue")],
        "twitch" => &[
            ("twitch-eventsub-message-type", "notification"),
            ("twitch-eventsub-message-retry", "0"),
            ("twitch-eventsub-subscription-type", "channel.follow"),
            ("twitch-eventsub-subscription-version", "2"),
        ],
        "square" => &[
            ("square-environment", "Sandbox"),
            ("square-retry-number", "0"),
        ],
        "slack" => &[("x-slack-retry-num", "0")],
        _ => &[],
    };
    let mut headers: SignedHeaders = fixed
        .iter()
        // A delivery id that is not a header value leaves its header out
        // rather than failing the signature.
        .filter_map(|(name, value)| {
            Some((
                HeaderName::from_static(name),
                HeaderValue::from_str(value).ok()?,
            ))
        })
        .collect();
    if scheme == "shopify" {
        if let Some(at) = rfc3339(outgoing.timestamp) {
            headers.push((HeaderName::from_static("x-shopify-triggered-at"), at));
        }
    }
    headers
}

fn rfc3339(unix_seconds: i64) -> Option<HeaderValue> {
    use ::time::format_description::well_known::Rfc3339;
    let at = ::time::OffsetDateTime::from_unix_timestamp(unix_seconds).ok()?;
    HeaderValue::from_str(&at.format(&Rfc3339).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_sends_its_delivery_id_and_event() {
        let headers = provider_headers("github", &Outgoing::new(b"{}", 0, "72d3162e"));
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.to_str().unwrap().to_owned())
        };
        assert_eq!(get("x-github-delivery").as_deref(), Some("72d3162e"));
        assert_eq!(get("x-github-event").as_deref(), Some("ping"));
    }

    #[test]
    fn an_id_that_is_no_header_value_is_left_out() {
        let headers = provider_headers("linear", &Outgoing::new(b"{}", 0, "bad\nid"));
        assert!(headers.iter().all(|(name, _)| name != "linear-delivery"));
    }

    #[test]
    fn unknown_schemes_send_nothing_more() {
        assert!(provider_headers("custom", &Outgoing::new(b"{}", 0, "x")).is_empty());
    }
}
