//! One call per provider: [`WebhookStack::github`], [`WebhookStack::stripe`],
//! ... return a stack configured from the provider's documentation, still
//! adjustable with the builder methods. Every bundle is built by one
//! composer from the provider's [`Provider`] value
//! ([`WebhookStack::from_provider`]). The body limit and the idempotency
//! TTL floor are settings of the stack, not of a layer: replacing the
//! idempotency layer (a Redis store, say) keeps the provider's body cap,
//! and its TTL is raised to the provider's retry horizon unless set
//! explicitly, in which case a TTL shorter than the horizon is refused.
//!
//! A bundle holds:
//!
//! * the provider's signature;
//! * the replay window on the signed timestamp, where the provider signs
//!   one, with the provider's documented tolerance
//!   ([`Scheme::tolerance`](crate::signature::Scheme::tolerance)), or 300 s
//!   where it documents none;
//! * idempotency on the provider's *signed* delivery id (see
//!   [`Provider::delivery_id`]), never on an unsigned header, remembered at
//!   least as long as the provider keeps retrying plus the replay window
//!   ([`Provider::idempotency_ttl`]);
//! * the provider's maximum payload as body limit ([`Provider::body_limit`],
//!   with its source);
//! * its handshake, where it has one;
//! * the headers the provider sends unsigned, handed to the handler as
//!   [`UnauthenticatedHeaders`].
//!
//! ```
//! use axum::{routing::post, Router};
//! use tower_webhook::audit::AuditLayer;
//! use tower_webhook::{Secret, WebhookStack};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let github = WebhookStack::github(Secret::new("It's a Secret to Everybody")?)
//!     .audit(AuditLayer::new())
//!     .build()?;
//! let app: Router = Router::new().route("/github", post(|| async { "ok" }).layer(github));
//! # let _ = app;
//! # Ok(())
//! # }
//! ```

use std::time::Duration;

use http::request::Parts;
use http::{HeaderMap, HeaderName, HeaderValue};

use super::WebhookStack;
use crate::context::WebhookContext;
use crate::guard::RequestCheck;
use crate::handshake::Handshake;
use crate::idempotency::{IdempotencyLayer, KeySource};
use crate::provider::{self, Provider};
use crate::rejection::Stop;
use crate::replay::ReplayLayer;
use crate::secret::Secret;
use crate::signature::public_url::PublicUrl;
use crate::signature::scheme::Tolerance;
use crate::signature::SignatureLayer;

/// The window applied to a signed timestamp whose provider documents none.
pub(crate) const UNDOCUMENTED_WINDOW: Duration = crate::provider::UNDOCUMENTED_WINDOW;

/// Headers the provider sent that its signature does not cover (a request
/// extension set by the provider bundles; axum: `Extension<UnauthenticatedHeaders>`).
///
/// Anyone who captured one genuine delivery can re-send it with these
/// changed: treat them as hints (routing, logging), never as facts about
/// the delivery. What the signature covers is in the body.
#[derive(Debug, Clone, Default)]
pub struct UnauthenticatedHeaders(HeaderMap);

impl UnauthenticatedHeaders {
    /// The value of `name`, if sent (the first one).
    pub fn get(&self, name: &str) -> Option<&HeaderValue> {
        self.0.get(name)
    }

    /// Every such header sent.
    pub fn iter(&self) -> impl Iterator<Item = (&HeaderName, &HeaderValue)> {
        self.0.iter()
    }
}

/// Copies the named headers into [`UnauthenticatedHeaders`].
#[derive(Debug)]
pub(super) struct ExposeUnsigned(pub(super) Vec<HeaderName>);

impl RequestCheck for ExposeUnsigned {
    fn check(&self, parts: &mut Parts, _: &WebhookContext) -> Result<(), Stop> {
        let mut found = HeaderMap::new();
        for name in &self.0 {
            for value in parts.headers.get_all(name) {
                found.append(name.clone(), value.clone());
            }
        }
        parts.extensions.insert(UnauthenticatedHeaders(found));
        Ok(())
    }
}

/// The replay window for a signed timestamp within `tolerance`.
fn window(tolerance: Option<Tolerance>) -> ReplayLayer {
    let layer = ReplayLayer::signed_timestamp();
    let Some(tolerance) = tolerance else {
        return layer.window(UNDOCUMENTED_WINDOW);
    };
    let layer = layer.window(tolerance.past.unwrap_or(UNDOCUMENTED_WINDOW));
    match tolerance.future {
        Some(future) => layer.future_window(future),
        None => layer.past_only(),
    }
}

impl WebhookStack {
    /// The bundle of `provider` around `signature` (see the
    /// [module docs](self)); the handshake is added by the callers, which
    /// know the key it needs.
    fn bundle(provider: &'static Provider, signature: SignatureLayer) -> Self {
        let mut stack = WebhookStack::new().body_limit(provider.body_limit);
        stack.provider = Some(provider);
        if provider.deduplicate {
            stack = stack.idempotency(IdempotencyLayer::new());
        }
        if let Some(scheme) = signature.check().scheme() {
            if scheme.signs_timestamp() {
                stack = stack.replay(window(scheme.tolerance()));
            }
        }
        if let Some(body_timestamp) = provider.body_timestamp {
            stack = stack.replay(body_timestamp());
        }
        stack.unsigned_headers = provider
            .unsigned_headers
            .iter()
            .map(|name| HeaderName::from_static(name))
            .collect();
        stack.signature(signature)
    }

    /// The bundle of `provider` with its key as the provider shows it
    /// (`whsec_…` for Standard Webhooks, Svix and GitLab; a hex public key
    /// for Discord; `whpk_…` for `standard-ed25519`), its handshake
    /// included: the one composer every bundle, policy and tenant goes
    /// through.
    ///
    /// Two bundles need more than a key and get it from their own
    /// constructor: Meta's verification answer needs the verify token
    /// ([`meta`](Self::meta); here, add `.handshake(Handshake::meta(..))`),
    /// and Square signs the subscription's URL ([`square`](Self::square);
    /// here, the URL is rebuilt from the request).
    ///
    /// ```
    /// use tower_webhook::{provider, WebhookStack};
    ///
    /// let stripe = WebhookStack::from_provider(&provider::STRIPE, "whsec_from_the_dashboard")?.build()?;
    /// # let _ = stripe;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_provider(
        provider: &'static Provider,
        shown_key: &str,
    ) -> Result<Self, crate::signature::SignatureConfigError> {
        Self::provider_bundle(provider, shown_key, "default")
    }

    /// [`from_provider`](Self::from_provider) with the key recorded as
    /// `key_id`.
    pub(crate) fn provider_bundle(
        provider: &'static Provider,
        shown_key: &str,
        key_id: &str,
    ) -> Result<Self, crate::signature::SignatureConfigError> {
        use crate::signature::{Key, Keyring, SignatureConfigError};
        let scheme = (provider.scheme)();
        let key = scheme
            .parse_key(shown_key)
            .map_err(SignatureConfigError::InvalidSecret)?;
        let signature =
            SignatureLayer::from_arc(scheme, Keyring::new().with(Key::new(key_id, key)))?;
        let stack = Self::bundle(provider, signature);
        Ok(match provider.handshake {
            Some(handshake) => {
                stack.handshake(handshake(shown_key).map_err(SignatureConfigError::InvalidSecret)?)
            }
            None => stack,
        })
    }

    /// The bundle of the provider called `name` (see
    /// [`provider::ALL`]): [`from_provider`](Self::from_provider)
    /// for receivers whose providers come from configuration. An unknown
    /// name is an error that lists the known ones and the closest.
    ///
    /// ```
    /// use tower_webhook::WebhookStack;
    ///
    /// let stripe = WebhookStack::provider("stripe", "whsec_from_the_dashboard")?.build()?;
    /// let typo = WebhookStack::provider("strpe", "x").unwrap_err();
    /// assert!(typo.to_string().contains("did you mean `stripe`"), "{typo}");
    /// # let _ = stripe;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn provider(
        name: &str,
        shown_key: &str,
    ) -> Result<Self, crate::signature::SignatureConfigError> {
        let provider = provider::by_name(name).map_err(|unknown| {
            crate::signature::SignatureConfigError::UnknownScheme(unknown.to_string())
        })?;
        Self::from_provider(provider, shown_key)
    }

    /// The headers the provider sends unsigned, exposed to the handler as
    /// [`UnauthenticatedHeaders`] (replaces the bundle's list).
    pub fn expose_unauthenticated(mut self, names: impl IntoIterator<Item = HeaderName>) -> Self {
        self.unsigned_headers = names.into_iter().collect();
        self
    }

    /// No idempotency (a bundle adds it; e.g. for a handler that is
    /// idempotent by itself).
    pub fn without_idempotency(mut self) -> Self {
        self.idempotency = None;
        self
    }

    /// GitHub: `X-Hub-Signature-256` over the body; no timestamp;
    /// idempotency on the signed body's digest (`X-GitHub-Delivery` is not
    /// signed); 25 MB body limit. `X-GitHub-Event`, `X-GitHub-Delivery` and
    /// the hook headers are [`UnauthenticatedHeaders`]. GitHub's `ping` is an
    /// ordinary signed delivery: it reaches the handler.
    ///
    /// **Redeliveries are duplicates.** GitHub's "Redeliver" button (and
    /// its API) re-sends the same body with the same signature, so within
    /// the idempotency TTL (24 h by default) it is acknowledged `200`
    /// without running the handler: right against an attacker re-sending a
    /// captured delivery, surprising after fixing a handler bug. To re-run
    /// one, wait out the TTL, remove its key from the store, or opt in to
    /// [`insecure_key_on_github_delivery`](Self::insecure_key_on_github_delivery).
    pub fn github(secret: Secret) -> Self {
        Self::bundle(
            &provider::GITHUB,
            SignatureLayer::single(provider::github::github(), secret),
        )
    }

    /// Key idempotency on GitHub's `X-GitHub-Delivery` (a new id per
    /// redelivery, so an operator's redelivery runs the handler) instead of
    /// the signed body's digest. The header is **not signed**: anyone who
    /// captured a delivery and can send from GitHub's addresses (another
    /// GitHub hook, which anyone can create) can replay it under a new id,
    /// once per id. So [`build`](Self::build) refuses
    /// ([`StackError::DeliveryKeyWithoutAllowlist`](super::StackError::DeliveryKeyWithoutAllowlist)) unless an
    /// [`ip_filter`](Self::ip_filter) admits only
    /// [`GITHUB_HOOK_RANGES`](crate::provider::github::GITHUB_HOOK_RANGES)
    /// (or part of them). A request without the header falls back to the
    /// digest.
    ///
    /// ```
    /// use tower_webhook::ip::IpFilterLayer;
    /// use tower_webhook::provider::github::GITHUB_HOOK_RANGES;
    /// use tower_webhook::{Secret, WebhookStack};
    ///
    /// let secret = Secret::new("It's a Secret to Everybody")?;
    /// assert!(WebhookStack::github(secret.clone())
    ///     .insecure_key_on_github_delivery()
    ///     .build()
    ///     .is_err());
    /// let stack = WebhookStack::github(secret)
    ///     .ip_filter(IpFilterLayer::new().allow(GITHUB_HOOK_RANGES)?)
    ///     .insecure_key_on_github_delivery()
    ///     .build()?;
    /// # let _ = stack;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn insecure_key_on_github_delivery(mut self) -> Self {
        // The bundle's layer (its store, TTL, limit) keeps all but its sources.
        let layer = self.idempotency.take().unwrap_or_default();
        self.idempotency = Some(
            layer
                .with_key_sources(vec![
                    KeySource::UnsignedHeader(HeaderName::from_static("x-github-delivery")),
                    KeySource::SignedDelivery,
                ])
                .accept_unsigned_keys_for_signed_requests(),
        );
        self.github_delivery_key = true;
        self
    }

    /// GitLab signing token (Standard Webhooks v1 under GitLab's name;
    /// decode the `whsec_…` token with [`Secret::from_whsec`]): signed id,
    /// timestamp (±300 s) and body; 25 MB. `X-Gitlab-Event` and the UUID
    /// headers are unauthenticated.
    pub fn gitlab(signing_token: Secret) -> Self {
        Self::bundle(
            &provider::GITLAB,
            SignatureLayer::single(provider::gitlab::gitlab(), signing_token),
        )
    }

    /// Bitbucket Cloud: `X-Hub-Signature: sha256=` over the body; digest
    /// idempotency; 256 KiB. `X-Event-Key`, `X-Request-UUID` and the hook
    /// headers are unauthenticated.
    pub fn bitbucket(secret: Secret) -> Self {
        Self::bundle(
            &provider::BITBUCKET,
            SignatureLayer::single(provider::bitbucket::bitbucket(), secret),
        )
    }

    /// Jira Cloud admin webhooks: `X-Hub-Signature: sha256=` over the body;
    /// digest idempotency. The `X-Atlassian-Webhook-*` headers are
    /// unauthenticated.
    pub fn jira(secret: Secret) -> Self {
        Self::bundle(
            &provider::JIRA,
            SignatureLayer::single(provider::jira::jira(), secret),
        )
    }

    /// Stripe (the `whsec_…` string verbatim): `t` and the body signed;
    /// timestamps up to 300 s old; idempotency on the event id (`/id`).
    pub fn stripe(secret: Secret) -> Self {
        Self::bundle(&provider::STRIPE, SignatureLayer::stripe(secret))
    }

    /// Slack: timestamp (±300 s) and body signed; idempotency on
    /// `/event_id`; answers `url_verification`. `X-Slack-Retry-*` are
    /// unauthenticated.
    pub fn slack(secret: Secret) -> Self {
        Self::bundle(&provider::SLACK, SignatureLayer::slack(secret)).handshake(Handshake::slack())
    }

    /// Standard Webhooks (decode `whsec_…` with [`Secret::from_whsec`]):
    /// id, timestamp (±300 s) and body signed; idempotency on the signed
    /// `webhook-id`.
    pub fn standard_webhooks(secret: Secret) -> Self {
        Self::bundle(
            &provider::STANDARD_WEBHOOKS,
            SignatureLayer::standard_webhooks(secret),
        )
    }

    /// Standard Webhooks `v1a` (Ed25519), with the sender's public key as
    /// shown (`whpk_…`): id, timestamp (±300 s) and body signed;
    /// idempotency on the signed `webhook-id`.
    #[cfg(feature = "ed25519")]
    pub fn standard_webhooks_ed25519(
        public_key: &str,
    ) -> Result<Self, crate::signature::SignatureConfigError> {
        let signature = SignatureLayer::preset("standard-ed25519", public_key)?;
        Ok(Self::bundle(
            &provider::STANDARD_WEBHOOKS_ED25519,
            signature,
        ))
    }

    /// Svix (`svix-*` or unbranded `webhook-*` headers; decode `whsec_…`
    /// with [`Secret::from_whsec`]): as [`standard_webhooks`](Self::standard_webhooks).
    pub fn svix(secret: Secret) -> Self {
        Self::bundle(
            &provider::SVIX,
            SignatureLayer::single(provider::svix::svix(), secret),
        )
    }

    /// Shopify: the body signed, nothing else: `X-Shopify-Topic`,
    /// `-Shop-Domain`, `-API-Version`, `-Webhook-Id`, `-Event-Id`,
    /// `-Triggered-At` are unauthenticated. Digest idempotency.
    pub fn shopify(secret: Secret) -> Self {
        Self::bundle(&provider::SHOPIFY, SignatureLayer::shopify(secret))
    }

    /// Zoom: timestamp and body signed (Zoom documents no window: 300 s);
    /// digest idempotency; answers `endpoint.url_validation` with the
    /// HMAC of the plain token under the same secret token.
    pub fn zoom(secret_token: Secret) -> Self {
        let handshake = Handshake::zoom(secret_token.clone());
        Self::bundle(
            &provider::ZOOM,
            SignatureLayer::single(provider::zoom::zoom(), secret_token),
        )
        .handshake(handshake)
    }

    /// Paddle Billing: `ts` and body signed, at most 5 s old as the SDKs
    /// check; idempotency on `/event_id`.
    pub fn paddle(secret: Secret) -> Self {
        Self::bundle(
            &provider::PADDLE,
            SignatureLayer::single(provider::paddle::paddle(), secret),
        )
    }

    /// Linear: the body signed, with `webhookTimestamp` (milliseconds)
    /// inside it checked within 60 s as Linear's SDK does; digest
    /// idempotency. `Linear-Delivery` and `Linear-Event` are
    /// unauthenticated.
    pub fn linear(secret: Secret) -> Self {
        Self::bundle(
            &provider::LINEAR,
            SignatureLayer::single(provider::linear::linear(), secret),
        )
    }

    /// Twitch EventSub: message id, timestamp (at most 10 minutes old) and
    /// body signed; idempotency on the signed message id; answers
    /// `webhook_callback_verification` and records `revocation`. The
    /// message-type and subscription headers are unauthenticated.
    pub fn twitch(secret: Secret) -> Self {
        Self::bundle(
            &provider::TWITCH,
            SignatureLayer::single(provider::twitch::twitch(), secret),
        )
        .handshake(Handshake::twitch())
    }

    /// Intercom: `X-Hub-Signature: sha1=` over the body; idempotency on the
    /// notification id (`/id`).
    pub fn intercom(client_secret: Secret) -> Self {
        Self::bundle(
            &provider::INTERCOM,
            SignatureLayer::single(provider::intercom::intercom(), client_secret),
        )
    }

    /// Typeform: `Typeform-Signature` over the body; idempotency on
    /// `/event_id`.
    pub fn typeform(secret: Secret) -> Self {
        Self::bundle(
            &provider::TYPEFORM,
            SignatureLayer::single(provider::typeform::typeform(), secret),
        )
    }

    /// Dropbox: `X-Dropbox-Signature` over the body; answers the
    /// `GET ?challenge=` verification. No idempotency: notifications carry
    /// no id and identical bodies are normal (they only say "something
    /// changed").
    pub fn dropbox(app_secret: Secret) -> Self {
        Self::bundle(
            &provider::DROPBOX,
            SignatureLayer::single(provider::dropbox::dropbox(), app_secret),
        )
        .handshake(Handshake::dropbox())
    }

    /// Meta (Facebook, Instagram, WhatsApp): `X-Hub-Signature-256` over the
    /// body with the app secret; digest idempotency; answers the
    /// `hub.mode=subscribe` verification when `hub.verify_token` equals
    /// `verify_token`.
    pub fn meta(app_secret: Secret, verify_token: Secret) -> Self {
        Self::bundle(
            &provider::META,
            SignatureLayer::single(provider::meta::meta(), app_secret),
        )
        .handshake(Handshake::meta(verify_token))
    }

    /// Twilio: the URL and form parameters signed (HMAC-SHA1), the URL
    /// rebuilt from the request; behind a proxy, replace the signature with
    /// one whose scheme has a
    /// [`public_url`](crate::signature::DeclaredScheme::public_url).
    /// Digest idempotency (`I-Twilio-Idempotency-Token` is unauthenticated).
    pub fn twilio(auth_token: Secret) -> Self {
        Self::bundle(
            &provider::TWILIO,
            SignatureLayer::single(provider::twilio::twilio(), auth_token),
        )
    }

    /// Square: the notification URL exactly as subscribed and the body;
    /// idempotency on `/event_id`. The `square-*` delivery headers are
    /// unauthenticated.
    pub fn square(
        signature_key: Secret,
        notification_url: &str,
    ) -> Result<Self, crate::InvalidSetting> {
        let scheme = provider::square::square().public_url(PublicUrl::exact(notification_url)?);
        Ok(Self::bundle(
            &provider::SQUARE,
            SignatureLayer::single(scheme, signature_key),
        ))
    }

    /// HubSpot v3: method, URL, body and timestamp (milliseconds, at most
    /// 5 minutes old) signed; digest idempotency (the body is a batch).
    pub fn hubspot(client_secret: Secret) -> Self {
        Self::bundle(
            &provider::HUBSPOT,
            SignatureLayer::single(provider::hubspot::hubspot_v3(), client_secret),
        )
    }

    /// Mailgun: only `signature.timestamp` and `signature.token` are
    /// signed — **the event data is not**; idempotency on the signed token
    /// (single use), window 300 s (none documented).
    pub fn mailgun(signing_key: Secret) -> Self {
        Self::bundle(
            &provider::MAILGUN,
            SignatureLayer::single(provider::mailgun::mailgun(), signing_key),
        )
    }

    /// Discord interactions, with the application's public key (64 hex
    /// characters): timestamp and body signed (Ed25519; no window
    /// documented: 300 s); idempotency on the interaction id (`/id`);
    /// answers `PING`.
    #[cfg(feature = "ed25519")]
    pub fn discord(public_key: &str) -> Result<Self, crate::signature::SignatureConfigError> {
        let key = provider::discord::public_key(public_key)
            .map_err(crate::signature::SignatureConfigError::InvalidSecret)?;
        let keyring =
            crate::signature::Keyring::new().with(crate::signature::Key::new("default", key));
        let signature =
            SignatureLayer::from_arc(std::sync::Arc::new(provider::discord::discord()), keyring)?;
        Ok(Self::bundle(&provider::DISCORD, signature).handshake(Handshake::discord()))
    }

    /// SendGrid signed Event Webhook, with the verification key as shown
    /// (base64 DER): timestamp and body signed (ECDSA P-256; no window
    /// documented: 300 s); digest idempotency (the body is a batch).
    #[cfg(feature = "ecdsa")]
    pub fn sendgrid(
        verification_key: &str,
    ) -> Result<Self, crate::signature::SignatureConfigError> {
        let key = provider::sendgrid::public_key(verification_key)
            .map_err(crate::signature::SignatureConfigError::InvalidSecret)?;
        let keyring =
            crate::signature::Keyring::new().with(crate::signature::Key::new("default", key));
        let signature =
            SignatureLayer::from_arc(std::sync::Arc::new(provider::sendgrid::sendgrid()), keyring)?;
        Ok(Self::bundle(&provider::SENDGRID, signature))
    }
}
