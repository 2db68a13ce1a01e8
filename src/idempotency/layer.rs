//! The layer and its configuration.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderName, StatusCode};
use tower_layer::Layer;

use super::key::{KeySource, DEFAULT_KEY_HEADERS};
use super::lease::IdempotencyCounters;
use super::memory::MemoryStore;
use super::service::Idempotency;
use super::store::IdempotencyStore;
use crate::body::DEFAULT_BODY_LIMIT;

/// How long a completed delivery is remembered unless told otherwise: 24 h.
///
/// Far longer than any replay window. Senders that keep retrying longer
/// (Stripe: up to three days, Svix: about 28 hours) need a longer
/// [`with_ttl`](IdempotencyLayer::with_ttl) for late retries to be
/// recognised.
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// How long a reservation holds while the handler runs: 60 s. A replica that
/// dies mid-request blocks its key at most this long.
pub const DEFAULT_LOCK_TTL: Duration = Duration::from_secs(60);

/// The `Retry-After` given with `409 in_flight` and `503 store_unavailable`:
/// 5 s.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// Makes the handler run once per delivery, however often it arrives.
///
/// See the [module documentation](super) for the semantics.
#[derive(Clone)]
pub struct IdempotencyLayer {
    config: Arc<Config>,
}

#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) store: Arc<dyn IdempotencyStore>,
    pub(crate) sources: Vec<KeySource>,
    pub(crate) scope: Scope,
    pub(crate) missing: MissingKey,
    pub(crate) ttl: Duration,
    pub(crate) lock_ttl: Duration,
    pub(crate) retry_after: Duration,
    pub(crate) ack: DuplicateAck,
    pub(crate) fail_open: bool,
    pub(crate) complete_client_errors: bool,
    pub(crate) body_limit: usize,
    pub(crate) counters: IdempotencyCounters,
}

#[derive(Debug, Clone)]
pub(crate) enum Scope {
    Route,
    Named(Arc<str>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MissingKey {
    Reject,
    PassThrough,
}

/// How a duplicate of a completed delivery is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DuplicateAck {
    /// Always this status (default `200 OK`): the sender only needs to hear
    /// that the delivery arrived.
    Fixed(StatusCode),
    /// The status the handler answered the first time.
    StoredStatus,
}

impl IdempotencyLayer {
    /// Keys from the usual delivery-id headers ([`DEFAULT_KEY_HEADERS`]),
    /// else from the matched signature; an in-memory store
    /// ([`MemoryStore::new`]); TTL 24 h; requests without a key refused
    /// (`400 payload_incomplete`).
    pub fn new() -> Self {
        let mut sources: Vec<KeySource> = DEFAULT_KEY_HEADERS
            .iter()
            .map(|name| KeySource::Header(HeaderName::from_static(name)))
            .collect();
        sources.push(KeySource::Signature);
        Self::with_sources(sources)
    }

    /// Keys from the header `name` only (`Idempotency-Key`, `webhook-id`,
    /// `X-GitHub-Delivery`, ...).
    pub fn from_header(name: HeaderName) -> Self {
        Self::with_sources(vec![KeySource::Header(name)])
    }

    /// Keys from a field of the JSON body, as a JSON pointer (`/id` for
    /// Stripe's event id) or a top-level field name.
    pub fn from_json_field(pointer: &str) -> Self {
        Self::with_sources(vec![KeySource::json_field(pointer)])
    }

    /// Keys from the matched signature only. The signature layer must run
    /// before this one.
    pub fn from_signature() -> Self {
        Self::with_sources(vec![KeySource::Signature])
    }

    /// Keys from `sources`, tried in order.
    pub fn from_sources(sources: impl IntoIterator<Item = KeySource>) -> Self {
        Self::with_sources(sources.into_iter().collect())
    }

    fn with_sources(sources: Vec<KeySource>) -> Self {
        Self {
            config: Arc::new(Config {
                store: Arc::new(MemoryStore::new()),
                sources,
                scope: Scope::Route,
                missing: MissingKey::Reject,
                ttl: DEFAULT_TTL,
                lock_ttl: DEFAULT_LOCK_TTL,
                retry_after: DEFAULT_RETRY_AFTER,
                ack: DuplicateAck::Fixed(StatusCode::OK),
                fail_open: false,
                complete_client_errors: true,
                body_limit: DEFAULT_BODY_LIMIT,
                counters: IdempotencyCounters::default(),
            }),
        }
    }

    fn edit(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(Arc::make_mut(&mut self.config));
        self
    }

    /// When the sources so far give no key, try the header `name`.
    pub fn or_header(self, name: HeaderName) -> Self {
        self.edit(|c| c.sources.push(KeySource::Header(name)))
    }

    /// When the sources so far give no key, try a JSON body field.
    pub fn or_json_field(self, pointer: &str) -> Self {
        self.edit(|c| c.sources.push(KeySource::json_field(pointer)))
    }

    /// When the sources so far give no key, use the matched signature.
    pub fn or_signature(self) -> Self {
        self.edit(|c| c.sources.push(KeySource::Signature))
    }

    /// Remember deliveries in `store` (e.g. a `RedisStore` shared by
    /// replicas, or a [`MemoryStore`] of another capacity).
    pub fn with_store(self, store: impl IdempotencyStore) -> Self {
        self.with_shared_store(Arc::new(store))
    }

    /// Remember deliveries in a store shared with other layers.
    pub fn with_shared_store(self, store: Arc<dyn IdempotencyStore>) -> Self {
        self.edit(|c| c.store = store)
    }

    /// Keep keys apart per `namespace` instead of per request path (e.g. when
    /// one delivery may arrive on two paths). Tenants are always kept apart.
    pub fn with_namespace(self, namespace: &str) -> Self {
        self.edit(|c| c.scope = Scope::Named(namespace.into()))
    }

    /// Let requests without a key through, unprotected, instead of refusing
    /// them with `400 payload_incomplete`.
    pub fn allow_missing_key(self) -> Self {
        self.edit(|c| c.missing = MissingKey::PassThrough)
    }

    /// Remember completed deliveries for `ttl` (default 24 h). Keep it longer
    /// than the replay window and the sender's retry schedule.
    pub fn with_ttl(self, ttl: Duration) -> Self {
        self.edit(|c| c.ttl = ttl)
    }

    /// Hold a reservation at most `lock_ttl` while the handler runs (default
    /// 60 s). Keep it longer than the handler's slowest run.
    pub fn with_lock_ttl(self, lock_ttl: Duration) -> Self {
        self.edit(|c| c.lock_ttl = lock_ttl)
    }

    /// The `Retry-After` of `409 in_flight` and `503 store_unavailable`
    /// answers (default 5 s, rounded up to whole seconds).
    pub fn with_retry_after(self, retry_after: Duration) -> Self {
        self.edit(|c| c.retry_after = retry_after)
    }

    /// Answer duplicates of completed deliveries with `status` (default
    /// `200 OK`).
    pub fn acknowledge_duplicates_with(self, status: StatusCode) -> Self {
        self.edit(|c| c.ack = DuplicateAck::Fixed(status))
    }

    /// Answer duplicates with the status the handler gave the first time.
    pub fn replay_stored_status(self) -> Self {
        self.edit(|c| c.ack = DuplicateAck::StoredStatus)
    }

    /// When the store fails, run the handler unprotected instead of refusing
    /// with `503 store_unavailable`. Availability over exactly-once: choose
    /// it only for handlers that are idempotent on their own.
    pub fn fail_open(self) -> Self {
        self.edit(|c| c.fail_open = true)
    }

    /// Release the key when the handler answers `4xx`, so the sender's retry
    /// runs it again. By default a `4xx` completes the delivery (the handler
    /// refused it; the same bytes would be refused again), except the
    /// transient `408`, `409`, `425` and `429`, which always release.
    pub fn release_on_client_error(self) -> Self {
        self.edit(|c| c.complete_client_errors = false)
    }

    /// Read at most `limit` body bytes (default 1 MiB; `413` beyond).
    pub fn with_body_limit(self, limit: usize) -> Self {
        self.edit(|c| c.body_limit = limit)
    }

    /// What became of this layer's reservations so far: completed,
    /// released, released because the request was dropped or panicked, and
    /// the faults to alert on (leases lost, completions lost). Shared by
    /// every clone of the layer.
    pub fn counters(&self) -> IdempotencyCounters {
        self.config.counters.clone()
    }

    /// How long completed deliveries are remembered.
    pub fn ttl(&self) -> Duration {
        self.config.ttl
    }

    /// Where keys come from, in the order they are tried.
    pub fn key_sources(&self) -> &[KeySource] {
        &self.config.sources
    }

    /// Whether this configuration is safe next to a replay window of
    /// `window`: a delivery replayed after its key expired but inside the
    /// window would run the handler again, so the TTL must be at least the
    /// window (the stack builder refuses to build otherwise).
    pub fn check_against_replay_window(&self, window: Duration) -> Result<(), ConfigError> {
        if self.config.ttl < window {
            return Err(ConfigError::TtlShorterThanReplayWindow {
                ttl: self.config.ttl,
                window,
            });
        }
        Ok(())
    }
}

impl Default for IdempotencyLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for IdempotencyLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        f.debug_struct("IdempotencyLayer")
            .field("sources", &c.sources)
            .field("scope", &c.scope)
            .field("missing", &c.missing)
            .field("ttl", &c.ttl)
            .field("lock_ttl", &c.lock_ttl)
            .field("ack", &c.ack)
            .field("fail_open", &c.fail_open)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for IdempotencyLayer {
    type Service = Idempotency<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Idempotency::new(Arc::clone(&self.config), inner)
    }
}

/// A configuration that would let duplicates through.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// Keys expire before the replay window closes, so a replay between the
    /// two would run the handler again.
    TtlShorterThanReplayWindow {
        /// The idempotency TTL.
        ttl: Duration,
        /// The replay window.
        window: Duration,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::TtlShorterThanReplayWindow { ttl, window } => write!(
                f,
                "idempotency TTL ({ttl:?}) is shorter than the replay window ({window:?}): \
                 a replay after the key expired would run the handler again"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}
