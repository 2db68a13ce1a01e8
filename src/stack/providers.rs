//! What each provider's signature covers, its payload cap, and the headers
//! it sends unsigned: the data behind the provider bundles
//! ([`WebhookStack::github`](super::WebhookStack::github), ...).

use crate::body::DEFAULT_BODY_LIMIT;

/// One provider, as its bundle configures it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Profile {
    /// The preset's name ([`schemes::by_name`](crate::signature::schemes::by_name)).
    pub name: &'static str,
    /// What the signature covers, in words.
    pub signed: &'static str,
    /// Headers the provider sends that the signature does **not** cover:
    /// anyone who replays a captured delivery can change them. The bundle
    /// hands them to the handler as [`UnauthenticatedHeaders`](super::UnauthenticatedHeaders).
    pub unsigned_headers: &'static [&'static str],
    /// The body limit the bundle applies.
    pub body_limit: usize,
    /// Where [`body_limit`](Self::body_limit) comes from.
    pub body_limit_source: &'static str,
    /// The provider's delivery id the bundle deduplicates on, in words.
    pub delivery_id: &'static str,
}

const MIB: usize = 1024 * 1024;
const UNDOCUMENTED: &str = "no maximum documented: the crate's default, 1 MiB";

/// Every provider a bundle exists for.
pub const PROFILES: &[Profile] = &[
    Profile {
        name: "github",
        signed: "the raw body",
        unsigned_headers: &[
            "x-github-event",
            "x-github-delivery",
            "x-github-hook-id",
            "x-github-hook-installation-target-id",
            "x-github-hook-installation-target-type",
        ],
        body_limit: 25 * MIB,
        body_limit_source: "GitHub docs, \"About webhook events and payloads\": payloads are capped at 25 MB",
        delivery_id: "none signed (X-GitHub-Delivery is not): the signed body's digest",
    },
    Profile {
        name: "gitlab",
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
    },
    Profile {
        name: "bitbucket",
        signed: "the raw body",
        unsigned_headers: &["x-event-key", "x-request-uuid", "x-hook-uuid", "x-attempt-number"],
        body_limit: 256 * 1024,
        body_limit_source: "Atlassian BCLOUD-22312: payloads over 256 KB are not delivered",
        delivery_id: "none signed (X-Request-UUID is not): the signed body's digest",
    },
    Profile {
        name: "jira",
        signed: "the raw body",
        unsigned_headers: &[
            "x-atlassian-webhook-identifier",
            "x-atlassian-webhook-retry",
            "x-atlassian-webhook-flow",
        ],
        body_limit: DEFAULT_BODY_LIMIT,
        body_limit_source: UNDOCUMENTED,
        delivery_id: "none signed (X-Atlassian-Webhook-Identifier is not): the signed body's digest",
    },
    Profile {
        name: "stripe",
        signed: "the t= timestamp and the raw body",
        unsigned_headers: &[],
        body_limit: DEFAULT_BODY_LIMIT,
        body_limit_source: UNDOCUMENTED,
        delivery_id: "the event id, /id in the signed body",
    },
    Profile {
        name: "slack",
        signed: "X-Slack-Request-Timestamp and the raw body",
        unsigned_headers: &["x-slack-retry-num", "x-slack-retry-reason"],
        body_limit: DEFAULT_BODY_LIMIT,
        body_limit_source: UNDOCUMENTED,
        delivery_id: "the Events API event_id, /event_id in the signed body (else the body's digest)",
    },
    Profile {
        name: "standard",
        signed: "webhook-id, webhook-timestamp and the raw body",
        unsigned_headers: &[],
        body_limit: DEFAULT_BODY_LIMIT,
        body_limit_source: UNDOCUMENTED,
        delivery_id: "the signed webhook-id",
    },
    Profile {
        name: "standard-ed25519",
        signed: "webhook-id, webhook-timestamp and the raw body (Ed25519, v1a)",
        unsigned_headers: &[],
        body_limit: DEFAULT_BODY_LIMIT,
        body_limit_source: UNDOCUMENTED,
        delivery_id: "the signed webhook-id",
    },
    Profile {
        name: "svix",
        signed: "svix-id (or webhook-id), its timestamp and the raw body",
        unsigned_headers: &[],
        body_limit: DEFAULT_BODY_LIMIT,
        body_limit_source: UNDOCUMENTED,
        delivery_id: "the signed svix-id (or webhook-id)",
    },
    Profile {
        name: "shopify",
        signed: "the raw body",
        unsigned_headers: &[
            "x-shopify-topic",
            "x-shopify-shop-domain",
            "x-shopify-api-version",
            "x-shopify-webhook-id",
            "x-shopify-event-id",
            "x-shopify-triggered-at",
            "x-shopify-name",
        ],
        body_limit: DEFAULT_BODY_LIMIT,
        body_limit_source: UNDOCUMENTED,
        delivery_id: "none signed (X-Shopify-Webhook-Id is not): the signed body's digest",
    },
    Profile {
        name: "zoom",
        signed: "x-zm-request-timestamp and the raw body",
        unsigned_headers: &[],
        body_limit: DEFAULT_BODY_LIMIT,
        body_limit_source: UNDOCUMENTED,
        delivery_id: "none documented: the signed message's digest",
    },
    Profile {
        name: "paddle",
        signed: "the ts= timestamp and the raw body",
        unsigned_headers: &[],
        body_limit: DEFAULT_BODY_LIMIT,
        body_limit_source: UNDOCUMENTED,
        delivery_id: "the event id, /event_id in the signed body",
    },
    Profile {
        name: "linear",
        signed: "the raw body (which carries webhookTimestamp)",
        unsigned_headers: &["linear-delivery", "linear-event"],
        body_limit: DEFAULT_BODY_LIMIT,
        body_limit_source: UNDOCUMENTED,
        delivery_id: "none signed (Linear-Delivery is not; webhookId names the webhook, not the delivery): the signed body's digest",
    },
    Profile {
        name: "twitch",
        signed: "Twitch-Eventsub-Message-Id, -Message-Timestamp and the raw body",
        unsigned_headers: &[
            "twitch-eventsub-message-type",
            "twitch-eventsub-message-retry",
            "twitch-eventsub-subscription-type",
            "twitch-eventsub-subscription-version",
        ],
        body_limit: DEFAULT_BODY_LIMIT,
        body_limit_source: UNDOCUMENTED,
        delivery_id: "the signed Twitch-Eventsub-Message-Id",
    },
    Profile {
        name: "intercom",
        signed: "the raw body",
        unsigned_headers: &[],
        body_limit: DEFAULT_BODY_LIMIT,
        body_limit_source: UNDOCUMENTED,
        delivery_id: "the notification id, /id in the signed body",
    },
    Profile {
        name: "typeform",
        signed: "the raw body",
        unsigned_headers: &[],
        body_limit: DEFAULT_BODY_LIMIT,
        body_limit_source: UNDOCUMENTED,
        delivery_id: "the event id, /event_id in the signed body",
    },
    Profile {
        name: "dropbox",
        signed: "the raw body",
        unsigned_headers: &[],
        body_limit: DEFAULT_BODY_LIMIT,
        body_limit_source: UNDOCUMENTED,
        delivery_id: "none: notifications carry no id and identical bodies are normal, so no idempotency",
    },
    Profile {
        name: "meta",
        signed: "the raw body",
        unsigned_headers: &[],
        body_limit: DEFAULT_BODY_LIMIT,
        body_limit_source: UNDOCUMENTED,
        delivery_id: "none: the signed body's digest",
    },
    Profile {
        name: "twilio",
        signed: "the URL Twilio called and the form parameters (or the body's SHA-256 in the URL)",
        unsigned_headers: &["i-twilio-idempotency-token"],
        body_limit: DEFAULT_BODY_LIMIT,
        body_limit_source: UNDOCUMENTED,
        delivery_id: "none signed (I-Twilio-Idempotency-Token is not): the signed message's digest",
    },
    Profile {
        name: "square",
        signed: "the notification URL and the raw body",
        unsigned_headers: &[
            "square-environment",
            "square-initial-delivery-timestamp",
            "square-retry-number",
            "square-retry-reason",
        ],
        body_limit: DEFAULT_BODY_LIMIT,
        body_limit_source: UNDOCUMENTED,
        delivery_id: "the event id, /event_id in the signed body",
    },
    Profile {
        name: "hubspot-v3",
        signed: "the method, URL, raw body and X-HubSpot-Request-Timestamp",
        unsigned_headers: &[],
        body_limit: DEFAULT_BODY_LIMIT,
        body_limit_source: UNDOCUMENTED,
        delivery_id: "none (the body is a batch of events): the signed message's digest",
    },
    Profile {
        name: "mailgun",
        signed: "signature.timestamp and signature.token only: the event data is NOT signed",
        unsigned_headers: &[],
        body_limit: DEFAULT_BODY_LIMIT,
        body_limit_source: UNDOCUMENTED,
        delivery_id: "the signed token (single use)",
    },
    Profile {
        name: "discord",
        signed: "X-Signature-Timestamp and the raw body (Ed25519)",
        unsigned_headers: &[],
        body_limit: DEFAULT_BODY_LIMIT,
        body_limit_source: UNDOCUMENTED,
        delivery_id: "the interaction id, /id in the signed body",
    },
    Profile {
        name: "sendgrid",
        signed: "X-Twilio-Email-Event-Webhook-Timestamp and the raw body (ECDSA P-256)",
        unsigned_headers: &[],
        body_limit: DEFAULT_BODY_LIMIT,
        body_limit_source: UNDOCUMENTED,
        delivery_id: "none (the body is a batch of events): the signed message's digest",
    },
];

/// The profile of the preset `name`, if a bundle exists for it.
pub fn profile(name: &str) -> Option<&'static Profile> {
    PROFILES.iter().find(|profile| profile.name == name)
}
