//! The layer and its configuration.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderName, StatusCode};
use tower_layer::Layer;

use super::key::{KeySource, DEFAULT_KEY_HEADERS};
use super::lease::{IdempotencyCounters, IdempotencyCounts};
use super::memory::MemoryStore;
use super::service::Idempotency;
use super::store::IdempotencyStore;
use super::watch::Watch;

/// How long a completed delivery is remembered unless told otherwise: 24 h.
///
/// Far longer than any replay window. Senders that keep retrying longer
/// (Stripe: up to three days, Svix: about 28 hours) need a longer
/// [`ttl`](IdempotencyLayer::ttl) for late retries to be
/// recognised.
pub(crate) const DEFAULT_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// How long a reservation holds while the handler runs: 60 s. A replica that
/// dies mid-request blocks its key at most this long.
pub(crate) const DEFAULT_LOCK_TTL: Duration = Duration::from_secs(60);

/// The `Retry-After` given with `409 in_flight` and `503 store_unavailable`:
/// 5 s.
pub(crate) const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

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
    pub(crate) unsigned_accepted: bool,
    pub(crate) scope: Scope,
    pub(crate) missing: MissingKey,
    pub(crate) ttl: Duration,
    /// Whether `ttl` was chosen by the user (a provider's retry horizon may
    /// raise the default, never an explicit choice).
    pub(crate) ttl_explicit: bool,
    pub(crate) lock_ttl: Duration,
    pub(crate) retry_after: Duration,
    pub(crate) ack: DuplicateAck,
    pub(crate) fail_open: bool,
    pub(crate) complete_client_errors: bool,
    /// `None`: the default 1 MiB for a body this layer reads itself;
    /// a body an outer layer already read under its own limit is taken as
    /// it is.
    pub(crate) body_limit: Option<usize>,
    pub(crate) counters: IdempotencyCounters,
    /// The keys this layer found in flight and how its store answers: a
    /// holder is presumed dead on this watch, never on the store's clock.
    pub(crate) watch: Arc<Watch>,
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
pub(crate) enum DuplicateAck {
    /// Always this status (default `200 OK`): the sender only needs to hear
    /// that the delivery arrived.
    Fixed(StatusCode),
    /// The status the handler answered the first time.
    StoredStatus,
}

impl IdempotencyLayer {
    /// Keys from authenticated data only, whatever unsigned headers say:
    /// for a request a signature authenticated, the delivery that signature
    /// covers ([`KeySource::SignedDelivery`]: the signed delivery id, else
    /// the provider's id field in the signed body, else a digest of the
    /// signed message); for one authenticated otherwise (a token, a legacy
    /// token) the usual delivery-id headers (`Idempotency-Key`, `webhook-id`, `svix-id`, `X-GitHub-Delivery`). An
    /// in-memory store ([`MemoryStore::new`]); TTL 24 h; requests without a
    /// key refused (`400 payload_incomplete`).
    pub fn new() -> Self {
        let mut sources = vec![KeySource::SignedDelivery];
        sources.extend(
            DEFAULT_KEY_HEADERS
                .iter()
                .map(|name| KeySource::UnsignedHeader(HeaderName::from_static(name))),
        );
        Self::with_sources(sources)
    }

    /// Keys from the delivery a signature verified only
    /// ([`KeySource::SignedDelivery`]); requests no signature authenticated
    /// have no key. A signature layer must run before this one.
    pub fn from_signed_delivery() -> Self {
        Self::with_sources(vec![KeySource::SignedDelivery])
    }

    /// Keys from the header `name`, which no signature covers: for senders
    /// that authenticate with a token. For a request a signature
    /// authenticated it yields no key unless
    /// [`accept_unsigned_keys_for_signed_requests`](Self::accept_unsigned_keys_for_signed_requests)
    /// says otherwise: anyone who captured a signed request could send it
    /// again under a new value and run the handler again.
    pub fn from_unsigned_header(name: HeaderName) -> Self {
        Self::with_sources(vec![KeySource::UnsignedHeader(name)])
    }

    /// Keys from a field of the JSON body, as a JSON pointer (`/id` for
    /// Stripe's event id) or a top-level field name. Authenticated when a
    /// signature covers the body; yields no key when the signature that
    /// authenticated the request does not (Mailgun).
    pub fn from_json_field(pointer: &str) -> Self {
        Self::with_sources(vec![KeySource::json_field(pointer)])
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
                unsigned_accepted: false,
                scope: Scope::Route,
                missing: MissingKey::Reject,
                ttl: DEFAULT_TTL,
                ttl_explicit: false,
                lock_ttl: DEFAULT_LOCK_TTL,
                retry_after: DEFAULT_RETRY_AFTER,
                ack: DuplicateAck::Fixed(StatusCode::OK),
                fail_open: false,
                complete_client_errors: true,
                body_limit: None,
                counters: IdempotencyCounters::default(),
                watch: Arc::default(),
            }),
        }
    }

    fn edit(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(Arc::make_mut(&mut self.config));
        self
    }

    /// The same layer with `sources` instead of its own.
    pub(crate) fn with_key_sources(self, sources: Vec<KeySource>) -> Self {
        self.edit(|c| c.sources = sources)
    }

    /// When the sources so far give no key, try the unsigned header `name`
    /// (see [`from_unsigned_header`](Self::from_unsigned_header)).
    pub fn or_unsigned_header(self, name: HeaderName) -> Self {
        self.edit(|c| c.sources.push(KeySource::UnsignedHeader(name)))
    }

    /// When the sources so far give no key, try a JSON body field.
    pub fn or_json_field(self, pointer: &str) -> Self {
        self.edit(|c| c.sources.push(KeySource::json_field(pointer)))
    }

    /// Let unsigned headers decide the key of signed requests too.
    ///
    /// This reopens the replay the default closes: whoever captured one
    /// signed delivery can send the same bytes again with a new header value
    /// and run the handler once per value, for as long as the signature is
    /// accepted (forever, for a scheme without a timestamp). Choose it only
    /// when the handler is idempotent on its own, or a replay window bounds
    /// the damage and the sender's id is needed for something else.
    pub fn accept_unsigned_keys_for_signed_requests(self) -> Self {
        self.edit(|c| c.unsigned_accepted = true)
    }

    /// Remember deliveries in `store` (e.g. a `RedisStore` shared by
    /// replicas, or a [`MemoryStore`] of another capacity).
    pub fn store(self, store: impl IdempotencyStore) -> Self {
        self.shared_store(Arc::new(store))
    }

    /// Remember deliveries in a store shared with other layers.
    pub fn shared_store(self, store: Arc<dyn IdempotencyStore>) -> Self {
        self.edit(|c| {
            c.store = store;
            // What was seen of another store says nothing about this one.
            c.watch = Arc::default();
        })
    }

    /// Keep keys apart per `namespace` instead of per request path (e.g.
    /// when one delivery may arrive on two paths). The path is read
    /// percent-decoded, so `/hooks/%61cme` and `/hooks/acme` are one place,
    /// as they are to a router. Tenants are always kept apart.
    pub fn namespace(self, namespace: &str) -> Self {
        self.edit(|c| c.scope = Scope::Named(namespace.into()))
    }

    /// Let requests without a key through, unprotected, instead of refusing
    /// them with `400 payload_incomplete`.
    pub fn allow_missing_key(self) -> Self {
        self.edit(|c| c.missing = MissingKey::PassThrough)
    }

    /// Remember completed deliveries for `ttl` (default 24 h). Keep it longer
    /// than the replay window and the sender's retry schedule.
    pub fn ttl(self, ttl: Duration) -> Self {
        self.edit(|c| {
            c.ttl = ttl;
            c.ttl_explicit = true;
        })
    }

    /// This layer with a TTL of at least `floor` (a provider's retry
    /// horizon plus its replay window): a default TTL is raised to it, an
    /// explicit one shorter than it is refused.
    pub(crate) fn ttl_at_least(self, floor: Duration) -> Result<Self, ConfigError> {
        if self.config.ttl >= floor {
            return Ok(self);
        }
        if self.config.ttl_explicit {
            return Err(ConfigError::TtlShorterThanRetryHorizon {
                ttl: self.config.ttl,
                horizon: floor,
            });
        }
        Ok(self.edit(|c| c.ttl = floor))
    }

    /// The lease of a running handler (default 60 s): renewed every third
    /// of it while the handler runs, and the time another replica must
    /// watch a reservation make no progress, on its own clock and with the
    /// store answering, before it presumes the holder dead and runs the
    /// delivery itself. A replica that crashed mid-request blocks its
    /// deliveries about that long after their next copy arrives.
    pub fn lock_ttl(self, lock_ttl: Duration) -> Self {
        self.edit(|c| {
            c.lock_ttl = lock_ttl;
            c.watch = Arc::default();
        })
    }

    /// The `Retry-After` of `409 in_flight` and `503 store_unavailable`
    /// answers (default 5 s, rounded up to whole seconds).
    pub fn retry_after(self, retry_after: Duration) -> Self {
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

    /// Read at most `limit` body bytes (`413` beyond). Default: 1 MiB for a
    /// body this layer reads itself; a body an outer layer (a stack, a
    /// tenant layer, a signature layer) already read under its own limit is
    /// taken as it is. Set, it applies to both.
    pub fn body_limit(self, limit: usize) -> Self {
        self.edit(|c| c.body_limit = Some(limit))
    }

    /// What became of this layer's reservations so far: completed,
    /// released, released because the request was dropped or panicked, and
    /// the faults to alert on (leases lost, completions lost). Shared by
    /// every clone of the layer: keep a clone to read them once the layer is
    /// in a stack.
    pub fn counts(&self) -> IdempotencyCounts {
        self.config.counters.snapshot()
    }

    /// Where keys come from, in the order they are tried.
    pub fn key_sources(&self) -> &[KeySource] {
        &self.config.sources
    }

    /// Whether unsigned headers may decide the key of signed requests
    /// ([`accept_unsigned_keys_for_signed_requests`](Self::accept_unsigned_keys_for_signed_requests)).
    pub fn accepts_unsigned_keys(&self) -> bool {
        self.config.unsigned_accepted
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
    /// No key source at all: every request would be refused.
    NoKeySource,
    /// Keys only from a verified signature, but the stack also accepts
    /// requests no signature authenticated.
    NoSignatureForKey,
    /// No key source serves signed requests: only headers (or body fields)
    /// the signature does not cover, which a replay can rewrite.
    UnsignedKey,
    /// Keys expire before the replay window closes, so a replay between the
    /// two would run the handler again.
    TtlShorterThanReplayWindow {
        /// The idempotency TTL.
        ttl: Duration,
        /// The replay window.
        window: Duration,
    },
    /// Keys expire while the provider may still retry the delivery (each
    /// retry freshly signed, so no replay window stops it): the retry would
    /// run the handler again.
    TtlShorterThanRetryHorizon {
        /// The idempotency TTL.
        ttl: Duration,
        /// The provider's retry horizon plus its replay window.
        horizon: Duration,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::NoKeySource => f.write_str(
                "the idempotency layer has no key source and would refuse every request",
            ),
            ConfigError::NoSignatureForKey => f.write_str(
                "the idempotency key comes only from a verified signature, but some requests this \
                 stack accepts are not signed (no signature layer, a token layer, or legacy \
                 tokens): add a key source for them, e.g. or_unsigned_header(...)",
            ),
            ConfigError::UnsignedKey => f.write_str(
                "no idempotency key source covers signed requests: a header the signature does not \
                 cover (or a body field the signature does not cover) can be rewritten by anyone \
                 who captured a delivery, so each rewrite would run the handler again. Key on the \
                 signed delivery (IdempotencyLayer::new), or accept the replay explicitly with \
                 accept_unsigned_keys_for_signed_requests()",
            ),
            ConfigError::TtlShorterThanReplayWindow { ttl, window } => write!(
                f,
                "idempotency TTL ({ttl:?}) is shorter than the replay window ({window:?}): \
                 a replay after the key expired would run the handler again"
            ),
            ConfigError::TtlShorterThanRetryHorizon { ttl, horizon } => write!(
                f,
                "idempotency TTL ({ttl:?}) is shorter than the provider's retry horizon plus its \
                 replay window ({horizon:?}): a retry after the key expired would run the handler \
                 again; leave the TTL out (the stack sets it) or make it at least that long"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

impl IdempotencyLayer {
    /// [`from_unsigned_header`](Self::from_unsigned_header) with a name from configuration
    /// (any case), refused with an [`InvalidSetting`](crate::InvalidSetting) when it is not a header
    /// name.
    ///
    /// ```
    /// use tower_webhook::idempotency::IdempotencyLayer;
    ///
    /// assert!(IdempotencyLayer::try_from_unsigned_header("X-Request-Id").is_ok());
    /// assert!(IdempotencyLayer::try_from_unsigned_header("X Request Id").is_err());
    /// ```
    pub fn try_from_unsigned_header(name: &str) -> Result<Self, crate::InvalidSetting> {
        Ok(Self::from_unsigned_header(
            crate::invalid_setting::header_name("idempotency", name)?,
        ))
    }
}
