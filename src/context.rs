//! The verification context shared by every layer of one request.
//!
//! The first layer that sees a request puts a [`WebhookContext`] into its
//! extensions; every later layer records what it decided into the same
//! handle: the client IP, the tenant, how the sender authenticated and with
//! which key, the verified timestamp, the idempotency key, or the reason the
//! request was refused. Because it is one shared handle, a layer *outside*
//! the others (the audit layer) keeps a clone and reads, after the response,
//! what the inner layers decided, including rejections.
//!
//! Handlers read a [`Verification`] snapshot; with the `axum` feature both
//! types are extractors.
//!
//! ```
//! use tower_webhook::{AuthMethod, Authentication, WebhookContext};
//!
//! let mut request = http::Request::new(());
//! let context = WebhookContext::of(&mut request);
//! context.set_authentication(Authentication::new(AuthMethod::Signature).with_key_id("2024-rotation"));
//!
//! // Any other layer of the same request sees the same state.
//! let seen = WebhookContext::of(&mut request).snapshot();
//! assert_eq!(seen.authentication.unwrap().key_id.as_deref(), Some("2024-rotation"));
//! ```

use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use bytes::Bytes;
use http::request::Parts;
use http::{Extensions, Request};

use crate::rejection::Reason;

/// How the sender proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthMethod {
    /// A signature over the request (HMAC, Ed25519, ECDSA).
    Signature,
    /// A static token in a header.
    Token,
    /// A static token accepted in place of a signature while the sender migrates.
    LegacyToken,
    /// `Authorization: Basic`.
    Basic,
    /// `Authorization: Bearer`.
    Bearer,
    /// A token in the URL (query parameter or path segment).
    UrlToken,
    /// No credential was checked (an explicit "no verification" choice).
    Anonymous,
    /// No credential, but the client address is on an allowlist: the
    /// "anonymous + IP restriction" sender.
    IpAllowlist,
}

impl AuthMethod {
    /// The stable name used in audit records: `signature`, `token`,
    /// `token (legacy)`, `basic`, `bearer`, `url_token`, `anonymous`,
    /// `ip_allowlist`.
    pub const fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Signature => "signature",
            AuthMethod::Token => "token",
            AuthMethod::LegacyToken => "token (legacy)",
            AuthMethod::Basic => "basic",
            AuthMethod::Bearer => "bearer",
            AuthMethod::UrlToken => "url_token",
            AuthMethod::Anonymous => "anonymous",
            AuthMethod::IpAllowlist => "ip_allowlist",
        }
    }

    /// Whether the sender showed a static credential (a token in a header,
    /// Bearer, Basic or the URL) rather than a signature.
    pub const fn is_static_credential(self) -> bool {
        matches!(
            self,
            AuthMethod::Token | AuthMethod::Basic | AuthMethod::Bearer | AuthMethod::UrlToken
        )
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A successful authentication: the method, the id of the key or token that
/// matched, and the scheme (provider preset) that checked it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Authentication {
    /// How the sender authenticated.
    pub method: AuthMethod,
    /// The id of the matching key or token, when it has one.
    pub key_id: Option<Arc<str>>,
    /// The scheme or preset name (`github`, `stripe`, ...), when one applies.
    pub scheme: Option<Arc<str>>,
}

impl Authentication {
    /// An authentication by `method`, without key id or scheme.
    pub fn new(method: AuthMethod) -> Self {
        Self {
            method,
            key_id: None,
            scheme: None,
        }
    }

    /// Record which key or token matched.
    pub fn with_key_id(mut self, key_id: impl Into<Arc<str>>) -> Self {
        self.key_id = Some(key_id.into());
        self
    }

    /// Record which scheme checked the credential.
    pub fn with_scheme(mut self, scheme: impl Into<Arc<str>>) -> Self {
        self.scheme = Some(scheme.into());
        self
    }
}

/// The delivery's timestamp as a layer accepted it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timestamp {
    /// Milliseconds since the Unix epoch.
    pub unix_millis: i64,
    /// Whether a verified signature covers this value. An unsigned timestamp
    /// can be rewritten by anyone who replays the request.
    pub signed: bool,
    /// Whether the replay layer has checked it against its window.
    pub window_checked: bool,
}

impl Timestamp {
    /// A timestamp that a verified signature covers.
    pub fn signed(unix_millis: i64) -> Self {
        Self {
            unix_millis,
            signed: true,
            window_checked: false,
        }
    }

    /// A timestamp taken from an unsigned header or body field.
    pub fn unsigned(unix_millis: i64) -> Self {
        Self {
            unix_millis,
            signed: false,
            window_checked: false,
        }
    }
}

/// What a signature covered, as later decisions (the idempotency key above
/// all) need to know it: the scheme's name, whether the body and the URL
/// are signed, and the exact signed message. Every
/// [`Scheme`](crate::signature::Scheme) is one; the context keeps the
/// verifying scheme as this, the facts and nothing of the verifying
/// machinery.
pub trait SignedMessage: Send + Sync + 'static {
    /// The scheme's stable name (`github`, `stripe`, …), recorded in the
    /// context as the authentication's scheme.
    fn name(&self) -> &str;

    /// Whether the signature covers the whole body. Default: yes. Mailgun's
    /// does not (it signs a timestamp and a token inside the body, not the
    /// event data), so nothing may be decided on a body field there.
    fn covers_body(&self) -> bool {
        true
    }

    /// Whether the signature covers the request method and URL (path and
    /// query), as Twilio's, Square's and HubSpot's do. Default: no.
    fn covers_url(&self) -> bool {
        false
    }

    /// The body as the signature binds it, for a digest of the signed
    /// message: two bodies that verify alike under every key must give the
    /// same bytes. Default: the body as received. Twilio signs its form
    /// parameters sorted, so reordering them keeps the signature valid and
    /// must keep the digest too.
    fn canonical_body<'b>(&self, body: &'b [u8]) -> std::borrow::Cow<'b, [u8]> {
        std::borrow::Cow::Borrowed(body)
    }

    /// The message this scheme's signature covers for the delivery `parts`
    /// and `body` (with the signed `timestamp` and `id`, exactly as sent,
    /// empty when the scheme signs none), piece by piece, for the digest the
    /// idempotency layer keys on when there is no signed delivery id.
    ///
    /// It must be the very bytes fed to the primitive, never a stricter
    /// parse of them: a parse that tells apart two messages the signature
    /// cannot (Twilio's parameters, whose name/value boundaries the flat
    /// concatenation does not fix) lets one captured delivery pass for
    /// several. Default: `None`, and the digest covers the timestamp, the
    /// method and percent-decoded path when [`covers_url`](Self::covers_url),
    /// and the [`canonical_body`](Self::canonical_body) when
    /// [`covers_body`](Self::covers_body).
    fn signed_message<'a>(
        &'a self,
        _parts: &'a Parts,
        _body: &'a [u8],
        _timestamp: &'a [u8],
        _id: &'a [u8],
    ) -> Option<Vec<std::borrow::Cow<'a, [u8]>>> {
        None
    }

    /// Where the provider's own delivery id sits in a signed JSON body, as a
    /// JSON pointer (`/id` for Stripe's event id, `/event_id` for Slack's
    /// Events API). An id the signature covers outside the body is reported
    /// with `Signatures::set_id` instead. Default: none; the idempotency
    /// layer then keys on a digest of the signed message.
    fn delivery_id_field(&self) -> Option<&str> {
        None
    }
}

/// What a verified signature covered: the authenticated facts about a
/// delivery that later decisions (the idempotency key above all) may rest
/// on.
///
/// Recorded by the signature layer only once a signature verified. Nothing
/// here comes from a header or field the signature did not cover.
#[derive(Clone)]
pub struct SignedDelivery {
    scheme: Arc<dyn SignedMessage>,
    id: Option<Bytes>,
    timestamp: Option<Bytes>,
}

impl SignedDelivery {
    pub(crate) fn new(
        scheme: Arc<dyn SignedMessage>,
        id: Option<Bytes>,
        timestamp: Option<Bytes>,
    ) -> Self {
        Self {
            scheme,
            id,
            timestamp,
        }
    }

    /// What the scheme that verified the signature signs.
    pub fn scheme(&self) -> &dyn SignedMessage {
        self.scheme.as_ref()
    }

    /// The delivery id the signature covers (Standard Webhooks `webhook-id`,
    /// Twitch's message id, Mailgun's token), exactly as sent.
    pub fn id(&self) -> Option<&[u8]> {
        self.id.as_deref()
    }

    /// The signed timestamp, exactly as sent.
    pub fn timestamp_text(&self) -> Option<&[u8]> {
        self.timestamp.as_deref()
    }
}

impl PartialEq for SignedDelivery {
    fn eq(&self, other: &Self) -> bool {
        self.scheme.name() == other.scheme.name()
            && self.id == other.id
            && self.timestamp == other.timestamp
    }
}

impl Eq for SignedDelivery {}

impl fmt::Debug for SignedDelivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedDelivery")
            .field("scheme", &self.scheme.name())
            .field("id", &self.id.as_deref().map(String::from_utf8_lossy))
            .field(
                "timestamp",
                &self.timestamp.as_deref().map(String::from_utf8_lossy),
            )
            .finish()
    }
}

/// What the layers decided about one request: a plain snapshot.
///
/// Never contains a secret, a token or a signature.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verification {
    /// The client address the IP layer resolved.
    pub client_ip: Option<IpAddr>,
    /// The tenant the request belongs to.
    pub tenant: Option<Arc<str>>,
    /// How the sender authenticated: only a credential that verified (or
    /// the allowlist, on a route where it is the only credential asked
    /// for).
    pub authentication: Option<Authentication>,
    /// The credential a layer asked for and refused (`signature` when a
    /// signature was missing or did not verify, `bearer` for a missing or
    /// wrong Bearer token, ...). Such a refusal also clears
    /// [`authentication`](Self::authentication): an allowlisted address
    /// that sent a forged signature did not authenticate.
    pub auth_attempted: Option<AuthMethod>,
    /// The delivery timestamp.
    pub timestamp: Option<Timestamp>,
    /// The idempotency key of the delivery.
    pub idempotency_key: Option<Arc<str>>,
    /// What the verified signature covered, when a signature authenticated
    /// the request.
    pub signed: Option<SignedDelivery>,
    /// Why the request was refused, if it was.
    pub rejection: Option<Reason>,
    /// What a check answered on the handler's behalf, if one did: the
    /// [`Answer`](crate::Answer)'s kind (`duplicate`, `handshake`, or an
    /// application's own).
    pub answer: Option<&'static str>,
    /// The signature scheme (provider preset: `github`, `stripe`, ...) the
    /// request was checked against, whether its signature verified or not:
    /// what tells a GitHub rejection from a Stripe one in the audit trail
    /// and the metrics. Set by the signature layer before it verifies.
    pub scheme: Option<Arc<str>>,
    /// The provider handshake this request was (`slack.url_verification`,
    /// `meta.verification`, ...), answered by a
    /// [`handshake`](crate::handshake) check or forwarded on request.
    pub handshake: Option<&'static str>,
}

impl fmt::Debug for Verification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verification")
            .field("client_ip", &self.client_ip)
            .field("tenant", &self.tenant)
            .field("authentication", &self.authentication)
            .field("auth_attempted", &self.auth_attempted)
            .field("timestamp", &self.timestamp)
            .field("idempotency_key", &self.idempotency_key)
            .field("signed", &self.signed)
            .field("rejection", &self.rejection)
            .field("answer", &self.answer)
            .field("scheme", &self.scheme)
            .field("handshake", &self.handshake)
            .finish()
    }
}

/// A shared, cheaply cloned handle on the [`Verification`] of one request.
///
/// Every clone sees the same state. It lives in the request extensions; use
/// [`WebhookContext::of`] to get it (creating it if no outer layer did).
#[derive(Clone, Default)]
pub struct WebhookContext {
    shared: Arc<Shared>,
}

/// One allocation per request for everything the layers share.
#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// When the first layer that asked saw the request (see
    /// [`WebhookContext::started`]).
    started: OnceLock<Instant>,
}

#[derive(Default)]
struct State {
    verification: Verification,
    /// Path segments that hold a credential, for the audit trail (see
    /// `<redacted>`).
    secret_segments: Vec<usize>,
    /// How long the delivery must be remembered at least: its provider's
    /// retry horizon plus window, set by the policy that verified it (a
    /// tenant's), read by the idempotency layer inside.
    retain_at_least: Option<std::time::Duration>,
}

impl fmt::Debug for WebhookContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WebhookContext")
            .field(&self.lock().verification)
            .finish()
    }
}

impl WebhookContext {
    /// A fresh, empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// The request's context, inserted if no layer has created one yet.
    pub fn of<B>(request: &mut Request<B>) -> Self {
        Self::of_extensions(request.extensions_mut())
    }

    /// Like [`WebhookContext::of`], on bare extensions (e.g. request `Parts`).
    pub fn of_extensions(extensions: &mut Extensions) -> Self {
        extensions.get_or_insert_with(WebhookContext::new).clone()
    }

    /// The context, if a layer has put one into these extensions.
    pub fn get(extensions: &Extensions) -> Option<&Self> {
        extensions.get::<WebhookContext>()
    }

    /// A copy of the current state.
    pub fn snapshot(&self) -> Verification {
        self.lock().verification.clone()
    }

    /// Change the state under the lock. Keep `f` short: no I/O, no awaits.
    pub fn update<R>(&self, f: impl FnOnce(&mut Verification) -> R) -> R {
        f(&mut self.lock().verification)
    }

    /// When the request reached the first layer that asked (the audit layer,
    /// when there is one), read from the monotonic clock once per request
    /// and shared: the audit latency and the idempotency lease's renewal
    /// schedule count from it.
    pub(crate) fn started(&self) -> Instant {
        *self.shared.started.get_or_init(Instant::now)
    }

    /// Record the resolved client address.
    pub fn set_client_ip(&self, ip: IpAddr) {
        self.lock().verification.client_ip = Some(ip);
    }

    /// Record the tenant.
    pub fn set_tenant(&self, tenant: impl Into<Arc<str>>) {
        self.lock().verification.tenant = Some(tenant.into());
    }

    /// Record a successful authentication.
    pub fn set_authentication(&self, authentication: Authentication) {
        self.lock().verification.authentication = Some(authentication);
    }

    /// Record the delivery timestamp.
    pub fn set_timestamp(&self, timestamp: Timestamp) {
        self.lock().verification.timestamp = Some(timestamp);
    }

    /// Record the idempotency key.
    pub fn set_idempotency_key(&self, key: impl Into<Arc<str>>) {
        self.lock().verification.idempotency_key = Some(key.into());
    }

    /// Record that the request is the provider handshake `name`.
    pub fn set_handshake(&self, name: &'static str) {
        self.lock().verification.handshake = Some(name);
    }

    /// Record that the credential `attempted` was refused: whatever
    /// authenticated the request so far (an allowlisted address) no longer
    /// stands for it.
    pub fn refuse_credential(&self, attempted: AuthMethod) {
        let mut state = self.lock();
        state.verification.authentication = None;
        state.verification.auth_attempted = Some(attempted);
    }

    /// Record why the request was refused. Crate-private: a refusal is
    /// recorded from the [`Rejection`](crate::Rejection) a check returns,
    /// whose custom name was checked, never stated beside it.
    pub(crate) fn reject(&self, reason: Reason) {
        self.lock().verification.rejection = Some(reason);
    }

    /// Record that a check answered on the handler's behalf, as `kind`.
    pub(crate) fn answered(&self, kind: &'static str) {
        self.lock().verification.answer = Some(kind);
    }

    /// Mark path segment `index` (0-based, after the leading `/`) as holding
    /// a credential, so the audit trail records it redacted.
    /// Remember this delivery at least `ttl` (its provider's retry horizon
    /// plus window): the idempotency layer keeps its key that long even
    /// when its own TTL is shorter.
    pub(crate) fn retain_at_least(&self, ttl: std::time::Duration) {
        let mut state = self.lock();
        state.retain_at_least = Some(state.retain_at_least.map_or(ttl, |t| t.max(ttl)));
    }

    /// What [`retain_at_least`](Self::retain_at_least) asked for, if anything.
    pub(crate) fn retention_floor(&self) -> Option<std::time::Duration> {
        self.lock().retain_at_least
    }

    pub(crate) fn mark_secret_segment(&self, index: usize) {
        let mut state = self.lock();
        if !state.secret_segments.contains(&index) {
            state.secret_segments.push(index);
        }
    }

    /// The state and the marked path segments, copied under one lock.
    pub(crate) fn snapshot_for_audit(&self) -> (Verification, Vec<usize>) {
        let state = self.lock();
        (state.verification.clone(), state.secret_segments.clone())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the plain data
        // half-written in a way that matters; keep serving.
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A timestamp rule that applies to every timestamp a signature verifies
/// later on the same request: a replay check outside a signature check
/// leaves one in the request extensions ([`PendingTimestampChecks`]), and
/// the signature check applies it to the timestamp it vouches for, so the
/// rule holds for the signed timestamp wherever the two layers sit.
pub(crate) trait PendingTimestampCheck: fmt::Debug + Send + Sync + 'static {
    /// Record `unix_millis` in `context` and refuse it when the rule does.
    fn admit(
        &self,
        unix_millis: i64,
        signed: bool,
        context: &WebhookContext,
    ) -> Result<(), crate::rejection::Rejection>;
}

/// The [`PendingTimestampCheck`]s of every check this request has passed
/// so far.
#[derive(Debug, Clone, Default)]
pub(crate) struct PendingTimestampChecks(pub(crate) Vec<Arc<dyn PendingTimestampCheck>>);

/// Apply every pending timestamp check of the request to the signed
/// timestamp `unix_millis` (called by the signature check).
pub(crate) fn admit_signed_timestamp(
    extensions: &Extensions,
    unix_millis: i64,
    context: &WebhookContext,
) -> Result<(), crate::rejection::Rejection> {
    let Some(PendingTimestampChecks(checks)) = extensions.get::<PendingTimestampChecks>() else {
        return Ok(());
    };
    checks
        .iter()
        .try_for_each(|check| check.admit(unix_millis, true, context))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_state() {
        let mut request = Request::new(());
        let outer = WebhookContext::of(&mut request);
        WebhookContext::of(&mut request).reject(Reason::TokenInvalid);
        assert_eq!(outer.snapshot().rejection, Some(Reason::TokenInvalid));
    }
}
