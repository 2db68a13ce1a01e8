//! Every protection in the right order, as one layer.
//!
//! [`WebhookStack`] takes the layers a sender calls for — IP filter, token,
//! signature, replay window, idempotency — in any order and any subset,
//! checks that they make sense together, and returns one [`WebhookLayer`]
//! that runs them in the order that costs least and lets nothing through:
//!
//! 1. every check that needs no body: the client address, a timestamp
//!    header inside the window, the token, the signature headers being
//!    present and well formed;
//! 2. the body, read once under the smallest limit any of them asks for;
//! 3. the checks on the body: the signature, then the window on the
//!    timestamp it signed;
//! 4. the application's own checks ([`WebhookStack::check`],
//!    [`WebhookStack::body_check`]), on authenticated requests only;
//! 5. idempotency, around the handler;
//!
//! and, around all of them, the audit trail. This is the order the
//! [crate docs](crate) recommend for stacking the layers by hand, and both
//! give every request the same status and the same reason.
//!
//! A GitHub receiver: the hook addresses, the GitHub signature, each
//! delivery handled once (keyed on what the signature covers: GitHub does
//! not sign its `X-GitHub-Delivery` header, so the key is a digest of the
//! signed body, and the same bytes re-sent under a new header are still a
//! duplicate).
//!
//! ```
//! use axum::{routing::post, Router};
//! use tower_webhook::audit::AuditLayer;
//! use tower_webhook::idempotency::IdempotencyLayer;
//! use tower_webhook::ip::IpFilterLayer;
//! use tower_webhook::signature::SignatureLayer;
//! use tower_webhook::stack::WebhookStack;
//! use tower_webhook::Secret;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let github = WebhookStack::new()
//!     .ip_filter(IpFilterLayer::new().allow("192.30.252.0/22, 185.199.108.0/22, 140.82.112.0/20")?)
//!     .signature(SignatureLayer::github(Secret::new("It's a Secret to Everybody")?))
//!     .idempotency(IdempotencyLayer::new())
//!     .audit(AuditLayer::new())
//!     .build()?;
//!
//! let app: Router = Router::new().route("/github", post(|| async { "thanks" }).layer(github));
//! # let _ = app;
//! # Ok(())
//! # }
//! ```
//!
//! Configurations that would let forged or replayed deliveries through are
//! refused by [`build`](WebhookStack::build) with a [`StackError`]:
//!
//! ```
//! use std::time::Duration;
//! use tower_webhook::idempotency::IdempotencyLayer;
//! use tower_webhook::replay::ReplayLayer;
//! use tower_webhook::signature::SignatureLayer;
//! use tower_webhook::stack::{StackError, WebhookStack};
//! use tower_webhook::Secret;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = Secret::from_whsec("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
//! let refused = WebhookStack::new()
//!     .signature(SignatureLayer::standard_webhooks(secret))
//!     .replay(ReplayLayer::signed_timestamp().window(Duration::from_secs(3600)))
//!     .idempotency(IdempotencyLayer::new().ttl(Duration::from_secs(60)))
//!     .build();
//! assert!(matches!(refused, Err(StackError::Idempotency(_))));
//! # Ok(())
//! # }
//! ```

mod bundles;
mod service;
mod tenant_lookup;

use std::fmt;

use crate::audit::AuditLayer;
use crate::chain::CheckChain;
use crate::handshake::{Handshake, SignedHandshakes, UnsignedHandshakes};
use crate::idempotency::{ConfigError, IdempotencyLayer, KeySource};
use crate::ip::IpFilterLayer;
use crate::replay::ReplayLayer;
use crate::signature::{Scheme, SignatureLayer};
use crate::tenant::TenantPolicy;
use crate::token::TokenLayer;

pub use bundles::UnauthenticatedHeaders;
pub use service::{ResponseFuture, WebhookLayer, WebhookService};

/// A builder for a [`WebhookLayer`]; see the [module docs](self).
#[derive(Debug, Default, Clone)]
#[must_use]
pub struct WebhookStack {
    ip_filter: Option<IpFilterLayer>,
    token: Option<TokenLayer>,
    signature: Option<SignatureLayer>,
    replay: Option<ReplayLayer>,
    idempotency: Option<IdempotencyLayer>,
    audit: Option<AuditLayer>,
    handshakes: Vec<Handshake>,
    unsigned_headers: Vec<http::HeaderName>,
    body_limit: Option<usize>,
    unauthenticated: bool,
    /// The provider a bundle was built for: its retry horizon sets the
    /// idempotency TTL floor, whichever idempotency layer ends up here.
    provider: Option<&'static crate::provider::Provider>,
    client_ip: Option<crate::ip::ClientIp>,
    github_delivery_key: bool,
    /// The application's checks, run after authentication.
    custom: CheckChain,
}

impl WebhookStack {
    /// An empty stack; add the protections the sender calls for.
    pub fn new() -> Self {
        Self::default()
    }

    /// Refuse clients outside an allowlist (403).
    pub fn ip_filter(mut self, layer: IpFilterLayer) -> Self {
        self.ip_filter = Some(layer);
        self
    }

    /// Require a static token, Bearer or Basic credential, or URL token
    /// (401).
    pub fn token(mut self, layer: TokenLayer) -> Self {
        self.token = Some(layer);
        self
    }

    /// Require a signature (401).
    pub fn signature(mut self, layer: SignatureLayer) -> Self {
        self.signature = Some(layer);
        self
    }

    /// Refuse timestamps outside a window (401). With
    /// [`ReplayLayer::signed_timestamp`] the stack needs a signature scheme
    /// that signs one.
    pub fn replay(mut self, layer: ReplayLayer) -> Self {
        self.replay = Some(layer);
        self
    }

    /// Handle each delivery once. Its TTL must cover the replay window.
    pub fn idempotency(mut self, layer: IdempotencyLayer) -> Self {
        self.idempotency = Some(layer);
        self
    }

    /// Answer the provider's `handshake` (see [`handshake`](crate::handshake)):
    /// an unsigned one right after the IP filter, a signed one after the
    /// signature and replay window, so it never reaches idempotency or the
    /// handler. Several may be added.
    pub fn handshake(mut self, handshake: Handshake) -> Self {
        self.handshakes.push(handshake);
        self
    }

    /// Run `check`, a protection of the application's (a closure
    /// `|parts: &Parts| -> Result<(), E>` or a
    /// [`RequestCheck`](crate::guard::RequestCheck)), on every request that
    /// passed every credential check: after the IP filter, the token, the
    /// signature and its replay window, and after handshakes were answered;
    /// before idempotency, so a refused delivery claims no key. It sees only
    /// authenticated requests: a forgery is refused for its signature, never
    /// by `check`. Its refusals and answers reach the audit trail and the
    /// metrics like the built-in ones (see [`Rejection::custom`](crate::Rejection::custom)).
    /// Several checks run in the order added.
    ///
    /// ```
    /// use http::{request::Parts, Method, StatusCode};
    /// use tower_webhook::signature::SignatureLayer;
    /// use tower_webhook::{Rejection, Secret, WebhookStack};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let stack = WebhookStack::new()
    ///     .signature(SignatureLayer::github(Secret::new("It's a Secret to Everybody")?))
    ///     .check(|parts: &Parts| match parts.headers.get("x-github-event") {
    ///         Some(event) if event == "push" || event == "ping" => Ok(()),
    ///         _ => Err(Rejection::custom("event_not_handled", StatusCode::UNPROCESSABLE_ENTITY)),
    ///     })
    ///     .build()?;
    /// # let _ = stack;
    /// # Ok(())
    /// # }
    /// ```
    pub fn check<C: crate::guard::RequestCheck>(mut self, check: C) -> Self {
        self.custom = self.custom.with_late_head_check(check);
        self
    }

    /// Run `check`, a protection of the application's that reads the body
    /// (a closure `|parts: &Parts, body: &Bytes| -> Result<(), E>` or a
    /// [`BodyCheck`](crate::guard::BodyCheck)), where
    /// [`check`](Self::check) runs: after authentication, before
    /// idempotency, on the body the stack buffered.
    pub fn body_check<C: crate::guard::BodyCheck>(mut self, check: C) -> Self {
        self.custom = self.custom.with_body_check(check);
        self
    }

    /// Record every request, accepted or rejected, outermost.
    pub fn audit(mut self, layer: AuditLayer) -> Self {
        self.audit = Some(layer);
        self
    }

    /// Read at most `limit` body bytes (413 beyond). Default: the smallest
    /// limit of the layers given, 1 MiB unless changed. Set here, it is the
    /// limit of every layer of the stack, the idempotency layer included,
    /// whichever layer is added later (a bundle sets its provider's cap).
    pub fn body_limit(mut self, limit: usize) -> Self {
        self.body_limit = Some(limit);
        self
    }

    /// Find the client address with `client_ip` (trusted proxies and the
    /// header they write) for the whole stack: the IP filter (replacing its
    /// own) and the audit trail, which records it even without an
    /// allowlist.
    pub fn client_ip(mut self, client_ip: crate::ip::ClientIp) -> Self {
        self.client_ip = Some(client_ip);
        self
    }

    /// The stack with its signature layer changed by `edit` (a policy's
    /// legacy token).
    pub(crate) fn map_signature(
        mut self,
        edit: impl FnOnce(SignatureLayer) -> SignatureLayer,
    ) -> Self {
        self.signature = self.signature.map(edit);
        self
    }

    /// The stack with its idempotency layer (if any) changed by `edit`.
    pub(crate) fn map_idempotency(
        mut self,
        edit: impl FnOnce(IdempotencyLayer) -> IdempotencyLayer,
    ) -> Self {
        self.idempotency = self.idempotency.map(edit);
        self
    }

    /// Narrow the window on the signed timestamp to at most `window` each
    /// way, keeping the provider's shape (a past-only window stays past
    /// only); a wider window than the provider's is refused.
    pub(crate) fn tighten_signed_window(
        mut self,
        window: std::time::Duration,
    ) -> Result<Self, StackError> {
        let scheme = self
            .signature
            .as_ref()
            .and_then(|layer| layer.check().scheme());
        let Some(scheme) = scheme.filter(|scheme| scheme.signs_timestamp()) else {
            return Err(StackError::NoTimestampSource);
        };
        let tolerance = scheme.tolerance();
        let provider_past = tolerance
            .and_then(|t| t.past)
            .unwrap_or(bundles::UNDOCUMENTED_WINDOW);
        if self.provider.is_some() && window > provider_past {
            return Err(StackError::WiderWindow {
                provider: provider_past,
            });
        }
        let mut replay = ReplayLayer::signed_timestamp().window(window);
        replay = match tolerance {
            Some(t) if t.future.is_none() && self.provider.is_some() => replay.past_only(),
            Some(t) => replay.future_window(t.future.unwrap_or(window).min(window)),
            None => replay,
        };
        self.replay = Some(replay);
        Ok(self)
    }

    /// Build a stack that authenticates nobody: no token, no signature and
    /// no IP allowlist. For endpoints protected by other means; logged as
    /// a warning when built.
    pub fn insecure_no_authentication(mut self) -> Self {
        self.unauthenticated = true;
        self
    }

    /// Check the configuration and compose the layer.
    pub fn build(mut self) -> Result<WebhookLayer, StackError> {
        self.apply_stack_settings()?;
        self.check_consistency()?;
        Ok(WebhookLayer {
            audit: self.audit.as_ref().map(AuditLayer::shared_config),
            checks: std::sync::Arc::new(self.checks()),
            idempotency: self.idempotency,
        })
    }

    /// The settings that belong to the stack rather than to one layer, so
    /// that replacing a layer (an idempotency layer with a Redis store)
    /// never drops them: the body limit, and the provider's retry horizon
    /// as the idempotency TTL floor.
    fn apply_stack_settings(&mut self) -> Result<(), StackError> {
        let Some(mut idempotency) = self.idempotency.take() else {
            return Ok(());
        };
        if let Some(limit) = self.body_limit {
            idempotency = idempotency.body_limit(limit);
        }
        if let Some(provider) = self.provider {
            idempotency = idempotency
                .ttl_at_least(provider.idempotency_ttl())
                .map_err(StackError::Idempotency)?;
        }
        self.idempotency = Some(idempotency);
        Ok(())
    }

    /// Check the configuration and make it one tenant's policy for a
    /// [`TenantLayer`](crate::tenant::TenantLayer). Idempotency and audit
    /// are not checks: put the audit layer outside the tenant layer and the
    /// idempotency layer inside it (so only a verified delivery can claim
    /// its id); here they are refused ([`StackError::NotPerTenant`]). Checks
    /// added with [`check`](Self::check) and [`body_check`](Self::body_check)
    /// are part of the policy, in their place.
    pub fn into_tenant_policy(mut self) -> Result<TenantPolicy, StackError> {
        if self.idempotency.is_some() || self.audit.is_some() {
            return Err(StackError::NotPerTenant);
        }
        self.apply_stack_settings()?;
        self.check_consistency()?;
        Ok(TenantPolicy::from_chain(self.checks()))
    }

    /// The checks, in the order that reads nothing before the header checks
    /// pass.
    fn checks(&self) -> CheckChain {
        let mut checks = CheckChain::new();
        match (&self.ip_filter, &self.client_ip) {
            (Some(layer), Some(client_ip)) => {
                checks = checks
                    .with_head_check(RecordClientIp(client_ip.clone()))
                    .with_shared_head_check(layer.shared_policy());
            }
            (Some(layer), None) => checks = checks.with_shared_head_check(layer.shared_policy()),
            (None, Some(client_ip)) => {
                checks = checks.with_head_check(RecordClientIp(client_ip.clone()));
            }
            (None, None) => {}
        }
        if !self.unsigned_headers.is_empty() {
            checks = checks.with_head_check(bundles::ExposeUnsigned(self.unsigned_headers.clone()));
        }
        // Unsigned handshakes carry no credential and no timestamp: answered
        // before anything asks for one.
        let unsigned = UnsignedHandshakes::new(&self.handshakes);
        if !unsigned.is_empty() {
            checks = checks.with_head_check(unsigned);
        }
        // The recommended order of hand-stacked layers, so both give the
        // same verdict: a header timestamp is checked before any
        // credential; one in the body or signed after the signature that
        // records it.
        let replay_first = self
            .replay
            .as_ref()
            .filter(|layer| layer.check().reads_header());
        if let Some(layer) = replay_first {
            checks = checks.with_shared_body_check(layer.shared_check());
        }
        if let Some(layer) = &self.token {
            checks = checks.with_shared_head_check(layer.shared_auth());
        }
        if let Some(layer) = &self.signature {
            checks = checks.with_shared_body_check(layer.shared_check());
        }
        if let Some(layer) = self.replay.as_ref().filter(|_| replay_first.is_none()) {
            checks = checks.with_shared_body_check(layer.shared_check());
        }
        let signed = SignedHandshakes::new(&self.handshakes);
        if !signed.is_empty() {
            checks = checks.with_body_check(signed);
        }
        // After the signature: a genuine delivery missing what its provider
        // always sends is incomplete; a forgery is a forgery first.
        if let Some(required) = self.provider.map(|p| p.requires).filter(|r| !r.is_empty()) {
            checks = checks.with_body_check(RequireHeaders(required));
        }
        // The application's own, on what authentication let through.
        checks = checks.then(&self.custom);
        if let Some(limit) = self.body_limit {
            checks = checks.with_body_limit(limit);
        }
        if let Some(provider) = self.provider {
            checks = checks.with_head_check(RetainAtLeast(provider.idempotency_ttl()));
        }
        checks
    }

    fn check_consistency(&self) -> Result<(), StackError> {
        // What actually verifies: a layer built without verification is
        // no authentication, however it is named.
        let scheme = self
            .signature
            .as_ref()
            .and_then(|layer| layer.check().scheme());
        let token_verifies = self
            .token
            .as_ref()
            .is_some_and(|layer| layer.auth().verifies());
        if let Some(token) = &self.token {
            if token.auth().verifies() && !token.has_credentials() {
                return Err(StackError::NoTokens);
            }
        }
        let allowlisted = self
            .ip_filter
            .as_ref()
            .is_some_and(IpFilterLayer::authenticates);
        if !token_verifies && scheme.is_none() && !allowlisted {
            if !self.unauthenticated {
                return Err(StackError::NoAuthentication);
            }
            tracing::warn!("webhook stack built without authentication: every sender is accepted");
        }
        if self.github_delivery_key && !self.allows_only_github_hooks() {
            return Err(StackError::DeliveryKeyWithoutAllowlist);
        }
        if let Some(idempotency) = &self.idempotency {
            self.check_idempotency_keys(idempotency, scheme)?;
        }
        let Some(replay) = self.replay.as_ref().map(ReplayLayer::check) else {
            return Ok(());
        };
        if replay.needs_signed_timestamp() && !scheme.is_some_and(|scheme| scheme.signs_timestamp())
        {
            return Err(StackError::NoTimestampSource);
        }
        if let Some(idempotency) = &self.idempotency {
            idempotency
                .check_against_replay_window(replay.replay_span())
                .map_err(StackError::Idempotency)?;
        }
        Ok(())
    }

    /// Every request the stack can accept must be able to get a key, and a
    /// signed one only from what its signature covers.
    /// Whether the IP filter admits only addresses in GitHub's hook ranges.
    fn allows_only_github_hooks(&self) -> bool {
        let Some(filter) = self.ip_filter.as_ref().filter(|f| f.restricts()) else {
            return false;
        };
        let Ok(github) = crate::ip::Allowlist::parse(crate::provider::github::GITHUB_HOOK_RANGES)
        else {
            return false;
        };
        filter
            .policy()
            .allowlist()
            .nets()
            .iter()
            .all(|net| github.nets().iter().any(|range| range.contains(net)))
    }

    fn check_idempotency_keys(
        &self,
        idempotency: &IdempotencyLayer,
        scheme: Option<&dyn Scheme>,
    ) -> Result<(), StackError> {
        let sources = idempotency.key_sources();
        if sources.is_empty() {
            return Err(StackError::Idempotency(ConfigError::NoKeySource));
        }
        let unsigned_senders = self.token.is_some()
            || scheme.is_none()
            || self
                .signature
                .as_ref()
                .is_some_and(SignatureLayer::accepts_legacy_tokens);
        if unsigned_senders && sources.iter().all(|s| *s == KeySource::SignedDelivery) {
            return Err(StackError::Idempotency(ConfigError::NoSignatureForKey));
        }
        if let Some(scheme) = scheme {
            let serves_signed = sources.iter().any(|source| {
                source.serves_signed(scheme.covers_body(), idempotency.accepts_unsigned_keys())
            });
            if !serves_signed {
                return Err(StackError::Idempotency(ConfigError::UnsignedKey));
            }
        }
        Ok(())
    }
}

/// A [`WebhookStack`] that would let forged or replayed deliveries through.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StackError {
    /// Neither a token, a signature nor an IP allowlist that verifies
    /// anything (a layer built without verification does not count, nor
    /// does an allowlist admitting most of the Internet: see
    /// [`IpFilterLayer::authenticates`]): anyone could call. Opt in with
    /// [`WebhookStack::insecure_no_authentication`].
    NoAuthentication,
    /// A token layer that accepts no token: it would refuse every request.
    NoTokens,
    /// The replay window reads the signed timestamp, but no signature
    /// scheme in the stack signs one. Read the timestamp from a header or
    /// the body, or use a scheme with a timestamp.
    NoTimestampSource,
    /// The idempotency settings do not cover the replay window.
    Idempotency(ConfigError),
    /// Idempotency or audit in a tenant policy: audit belongs outside the
    /// [`TenantLayer`](crate::tenant::TenantLayer), idempotency inside it.
    NotPerTenant,
    /// A replay window wider than the provider's: loosening a provider's
    /// default is not a setting.
    WiderWindow {
        /// The provider's window on old timestamps.
        provider: std::time::Duration,
    },
    /// [`insecure_key_on_github_delivery`](WebhookStack::insecure_key_on_github_delivery)
    /// without an IP filter admitting only GitHub's hook ranges: the
    /// unsigned delivery id would let anyone replay a captured delivery.
    DeliveryKeyWithoutAllowlist,
}

impl fmt::Display for StackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StackError::NoAuthentication => f.write_str(
                "the webhook stack authenticates nobody: add a token, a signature or an IP \
                 allowlist naming particular networks (0.0.0.0/0 or any network broader than a \
                 /8 is not one), or call insecure_no_authentication()",
            ),
            StackError::NoTokens => f.write_str(
                "the token layer accepts no token and would refuse every request: add one with \
                 accept(id, secret)",
            ),
            StackError::NoTimestampSource => f.write_str(
                "the replay window checks the signed timestamp, but no signature scheme in the \
                 stack signs one",
            ),
            StackError::Idempotency(error) => error.fmt(f),
            StackError::WiderWindow { provider } => write!(
                f,
                "the replay window is wider than the provider's ({provider:?}): a stack may only \
                 tighten it"
            ),
            StackError::DeliveryKeyWithoutAllowlist => f.write_str(
                "keying on the unsigned X-GitHub-Delivery needs an IP filter admitting only \
                 GitHub's hook ranges: add .ip_filter(IpFilterLayer::new().allow(GITHUB_HOOK_RANGES)?)",
            ),
            StackError::NotPerTenant => f.write_str(
                "idempotency and audit cannot be part of a tenant's policy: call \
                 .without_idempotency() on the bundle (or use TenantLookup::provider), put the \
                 audit layer outside the tenant layer and one idempotency layer inside it",
            ),
        }
    }
}

impl std::error::Error for StackError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StackError::Idempotency(error) => Some(error),
            _ => None,
        }
    }
}

/// Resolves the client address once for the whole stack
/// ([`WebhookStack::client_ip`]): recorded for the audit trail, and handed
/// to the IP filter. An address that cannot be resolved is left unrecorded,
/// never a refusal by itself: only an allowlist refuses (and then does).
#[derive(Debug)]
struct RecordClientIp(crate::ip::ClientIp);

impl crate::guard::RequestCheck for RecordClientIp {
    fn check(
        &self,
        parts: &mut http::request::Parts,
        context: &crate::context::WebhookContext,
    ) -> Result<(), crate::rejection::Stop> {
        let resolved = self.0.resolve(parts).ok();
        if let Some(ip) = resolved {
            context.set_client_ip(ip);
        }
        parts
            .extensions
            .insert(crate::ip::ResolvedClientIp(resolved));
        Ok(())
    }
}

/// Asks whatever idempotency layer handles the request to remember it at
/// least as long as its provider retries (plus the window): the provider's
/// horizon reaches an idempotency layer the stack does not own, e.g. the one
/// inside a [`TenantLayer`](crate::tenant::TenantLayer) shared by tenants
/// of several providers.
#[derive(Debug)]
struct RetainAtLeast(std::time::Duration);

impl crate::guard::RequestCheck for RetainAtLeast {
    fn check(
        &self,
        _: &mut http::request::Parts,
        context: &crate::context::WebhookContext,
    ) -> Result<(), crate::rejection::Stop> {
        context.retain_at_least(self.0);
        Ok(())
    }
}

/// Refuses a delivery without a header its provider always sends
/// ([`Provider::requires`](crate::provider::Provider::requires)), as the
/// provider's own library does: `400 payload_incomplete`, the header named
/// in the audit detail.
#[derive(Debug)]
struct RequireHeaders(&'static [&'static str]);

impl crate::guard::BodyCheck for RequireHeaders {
    type Pending = ();

    // Reads nothing of the body: the stack's limit applies.
    fn body_limit(&self) -> usize {
        usize::MAX
    }

    fn check_head(
        &self,
        _: &mut http::request::Parts,
        _: &crate::context::WebhookContext,
    ) -> Result<(), crate::rejection::Stop> {
        Ok(())
    }

    fn check_body(
        &self,
        (): (),
        parts: &mut http::request::Parts,
        _: &bytes::Bytes,
        _: &crate::context::WebhookContext,
    ) -> Result<(), crate::rejection::Stop> {
        match self
            .0
            .iter()
            .find(|name| !parts.headers.contains_key(**name))
        {
            Some(missing) => Err(crate::rejection::Rejection::new(
                crate::rejection::Reason::PayloadIncomplete,
            )
            .with_detail(format!("{missing} missing"))
            .into()),
            None => Ok(()),
        }
    }
}
