//! Answer fast, process later: a durable inbox between the protections and
//! the handler.
//!
//! Providers want a `2xx` within seconds (GitHub 10 s, Shopify 5 s, Slack
//! 3 s) and retry, disable the endpoint or alert otherwise. With an inbox
//! the handler no longer runs inside the request:
//!
//! 1. [`InboxLayer`] sits where the handler would, after the protections.
//!    It writes the verified delivery (body, headers, and the verification
//!    facts: provider, key id, delivery id, tenant, received-at) to an
//!    [`Inbox`] and answers `202 Accepted` once the entry is durable. A copy
//!    of a delivery already there (a retry, or the same delivery on another
//!    replica) adds nothing and is answered the same way. When the entry
//!    cannot be written, or the inbox is full, it answers `503` with
//!    `Retry-After`, so the provider retries.
//! 2. A [`Worker`] takes deliveries from the inbox and runs the handler (a
//!    `tower::Service<Delivery>` or an async closure): at least once from
//!    the inbox, once to the handler through the completion record. A
//!    failing, panicking or hanging handler is retried with backoff; after
//!    [`max_attempts`](Worker::max_attempts) the delivery goes to the
//!    dead letters, which an operator lists, retries and purges
//!    (`tower-webhook inbox list|retry|purge`, or [`Inbox::dead_letters`]).
//!
//! ```
//! use std::sync::Arc;
//! use axum::{routing::post, Router};
//! use http::StatusCode;
//! use tower::ServiceBuilder;
//! use tower_webhook::inbox::{Delivery, InboxLayer, MemoryInbox, Worker};
//! use tower_webhook::{Secret, WebhookStack};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // SqliteInbox::open("inbox.db")? (feature `inbox-sqlite`) survives a
//! // restart; RedisInbox (feature `redis`) is shared by replicas.
//! let inbox = Arc::new(MemoryInbox::new());
//! let stack = WebhookStack::github(Secret::new("It's a Secret to Everybody")?).build()?;
//! let app: Router = Router::new().route(
//!     "/hooks/github",
//!     // Verified deliveries end in the inbox (202); only a forwarded
//!     // provider handshake would reach this handler.
//!     post(|| async { StatusCode::NOT_FOUND })
//!         .layer(ServiceBuilder::new().layer(stack).layer(InboxLayer::new(inbox.clone()))),
//! );
//! let worker = Worker::from_fn(inbox, |delivery: Delivery| async move {
//!     println!("{:?} {}: {} bytes", delivery.provider, delivery.key, delivery.body.len());
//!     Ok::<_, std::convert::Infallible>(())
//! })
//! .spawn();
//! # let _ = app;
//! // On SIGTERM: finish or put back what runs.
//! worker.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # The key
//!
//! A delivery is enqueued under a key that does not change when the sender
//! retries: the idempotency key when an
//! [`IdempotencyLayer`](crate::idempotency::IdempotencyLayer) ran before
//! the inbox, else the delivery id the verified signature covers, else a
//! SHA-256 of the signed timestamp and the body. It is scoped by the route
//! (or [`with_namespace`](InboxLayer::with_namespace)) and the tenant. The
//! inbox remembers completed keys for 24 hours, so a late
//! retry is acknowledged without running the handler again.
//!
//! # No takeover on the store's clock
//!
//! A worker holding a delivery renews a heartbeat on it every quarter of the
//! lease. Another worker takes a held delivery over only after it has seen
//! no change of that heartbeat for the whole lease, measured on its *own*
//! monotonic clock, in reads that followed one another closely and all
//! succeeded: a read that fails or is slow (the store stalled or was
//! unreachable) starts the observation again. So a stopped store delays
//! deliveries but does not hand one to a second worker while the first is
//! alive; Redis' idle times (`XPENDING`, `XAUTOCLAIM`) are not used for this.
//! What remains (a worker cut off from the store while the others still
//! reach it, or one that pauses longer than the lease between the handler's
//! side effect and its completion) runs a delivery twice: the README's
//! failure mode table says so.
//!
//! # Backends
//!
//! * [`MemoryInbox`]: one process, nothing survives it; for tests and
//!   demos.
//! * `SqliteInbox` (feature `inbox-sqlite`): one file, WAL mode, every
//!   enqueue committed with `synchronous=FULL` before the `2xx`; several
//!   processes of one machine may share the file.
//! * `RedisInbox` (feature `redis`): Redis Streams with a consumer group,
//!   for many replicas, on one server, a Redis Cluster
//!   (`RedisInbox::connect_cluster`, feature `redis-cluster`; every key of
//!   an inbox in one slot) or the primary Sentinel names
//!   (`RedisInbox::connect_sentinel`, feature `redis-sentinel`); use AOF
//!   with `appendfsync always` for "no delivery that got a 2xx is lost" on
//!   one server (behind Sentinel a failover can still lose what the
//!   replica had not received yet).
//!
//! # Visible
//!
//! [`Inbox::stats`] gives the depth, the age of the oldest entry, the
//! entries in flight and the dead letters; [`InboxLayer::counts`] and
//! [`Worker::counts`] ([`InboxCounts`]) count
//! enqueues, duplicates, refusals, retries, dead letters and takeovers. With
//! the `metrics` feature the same numbers are published
//! by each [`Worker`] after it reads the inbox: the gauges
//! `webhook_inbox_depth`, `webhook_inbox_in_flight`,
//! `webhook_inbox_dead_letters` and `webhook_inbox_oldest_age_seconds`, the
//! counter `webhook_inbox_events_total{event}` (`enqueued`, `duplicate`,
//! `refused`, `processed`, `retry`, `dead_lettered`, `taken_over`,
//! `hold_lost`) and the histogram `webhook_inbox_enqueue_seconds`. In the
//! audit trail a refused enqueue is a `webhook.rejected` event (reason
//! `store_unavailable`, detail `inbox: the inbox is full` or the store's
//! failure), and a worker given the audit layer ([`Worker::audit`]) records
//! each failed attempt, dead letter, takeover and lost hold
//! (`webhook.inbox.retry`, `webhook.inbox.dead_lettered`,
//! `webhook.inbox.taken_over`, `webhook.inbox.hold_lost`).

mod layer;
mod memory;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "inbox-sqlite")]
mod sqlite;
mod watch;
mod worker;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};

pub use layer::{InboxLayer, InboxService, ResponseFuture};
pub use memory::MemoryInbox;
#[cfg(feature = "redis")]
pub use redis::RedisInbox;
#[cfg(feature = "inbox-sqlite")]
pub use sqlite::SqliteInbox;
pub use worker::{Worker, WorkerHandle};

/// How long a completed key is remembered by default: 24 hours, the
/// idempotency layer's default TTL.
pub(crate) const DEFAULT_RETAIN: Duration = Duration::from_secs(24 * 3600);

/// How many entries (waiting or in flight) an inbox takes by default before
/// it answers "full": 100,000.
pub(crate) const DEFAULT_CAPACITY: u64 = 100_000;

/// A boxed future of an inbox operation.
pub type InboxFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, InboxError>> + Send + 'a>>;

/// A verified delivery, as it waits in the inbox and reaches the handler.
#[derive(Clone)]
#[non_exhaustive]
pub struct Delivery {
    /// The inbox key: one per delivery, whichever copy or retry brought it.
    pub key: Arc<str>,
    /// The request path it arrived on.
    pub path: Arc<str>,
    /// The request headers kept for the handler (credentials left out, see
    /// [`InboxLayer::keep_headers`]).
    pub headers: HeaderMap,
    /// The body, exactly as received and verified.
    pub body: Bytes,
    /// The provider (signature scheme) that verified it, if one did.
    pub provider: Option<Arc<str>>,
    /// The id of the key or token that matched.
    pub key_id: Option<Arc<str>>,
    /// The delivery id the signature covered, if the provider signs one.
    pub delivery_id: Option<Arc<str>>,
    /// The tenant it belongs to.
    pub tenant: Option<Arc<str>>,
    /// When the inbox layer received it, in milliseconds since the Unix
    /// epoch.
    pub received_at_ms: i64,
    /// Which attempt this is, from 1 (set by the inbox when a worker takes
    /// it).
    pub attempt: u32,
}

impl Delivery {
    /// A delivery of `body` under `key`, received now; for tests and for
    /// enqueueing from elsewhere than the layer.
    pub fn new(key: impl Into<Arc<str>>, body: impl Into<Bytes>) -> Self {
        Self {
            key: key.into(),
            path: Arc::from("/"),
            headers: HeaderMap::new(),
            body: body.into(),
            provider: None,
            key_id: None,
            delivery_id: None,
            tenant: None,
            received_at_ms: unix_millis(),
            attempt: 0,
        }
    }

    /// The stored form of everything but the body: JSON, header values in
    /// base64 (they need not be UTF-8).
    #[cfg_attr(
        not(any(feature = "inbox-sqlite", feature = "redis")),
        allow(dead_code)
    )]
    pub(crate) fn meta_json(&self) -> String {
        let meta = Meta {
            key: self.key.to_string(),
            path: self.path.to_string(),
            headers: self
                .headers
                .iter()
                .map(|(name, value)| {
                    (
                        name.as_str().to_owned(),
                        base64::engine::general_purpose::STANDARD.encode(value.as_bytes()),
                    )
                })
                .collect(),
            provider: self.provider.as_deref().map(str::to_owned),
            key_id: self.key_id.as_deref().map(str::to_owned),
            delivery_id: self.delivery_id.as_deref().map(str::to_owned),
            tenant: self.tenant.as_deref().map(str::to_owned),
            received_at_ms: self.received_at_ms,
        };
        // A struct of strings and numbers always serialises.
        serde_json::to_string(&meta).unwrap_or_default()
    }

    /// The delivery from its stored form.
    #[cfg_attr(
        not(any(feature = "inbox-sqlite", feature = "redis")),
        allow(dead_code)
    )]
    pub(crate) fn from_stored(meta: &str, body: Bytes, attempt: u32) -> Result<Self, InboxError> {
        let meta: Meta = serde_json::from_str(meta)
            .map_err(|e| InboxError::Corrupt(format!("entry metadata: {e}")))?;
        let mut headers = HeaderMap::new();
        for (name, value) in meta.headers {
            let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                base64::engine::general_purpose::STANDARD.decode(value.as_bytes()),
            ) else {
                continue;
            };
            if let Ok(value) = HeaderValue::from_bytes(&value) {
                headers.append(name, value);
            }
        }
        Ok(Self {
            key: meta.key.into(),
            path: meta.path.into(),
            headers,
            body,
            provider: meta.provider.map(Into::into),
            key_id: meta.key_id.map(Into::into),
            delivery_id: meta.delivery_id.map(Into::into),
            tenant: meta.tenant.map(Into::into),
            received_at_ms: meta.received_at_ms,
            attempt,
        })
    }
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The body may be personal data: its length only.
        f.debug_struct("Delivery")
            .field("key", &self.key)
            .field("path", &self.path)
            .field("provider", &self.provider)
            .field("key_id", &self.key_id)
            .field("delivery_id", &self.delivery_id)
            .field("tenant", &self.tenant)
            .field("received_at_ms", &self.received_at_ms)
            .field("attempt", &self.attempt)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
#[cfg_attr(
    not(any(feature = "inbox-sqlite", feature = "redis")),
    allow(dead_code)
)]
struct Meta {
    key: String,
    path: String,
    headers: Vec<(String, String)>,
    provider: Option<String>,
    key_id: Option<String>,
    delivery_id: Option<String>,
    tenant: Option<String>,
    received_at_ms: i64,
}

/// What an enqueue did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// A new entry, durable now.
    Added,
    /// The key was there already (waiting, in flight, completed or dead):
    /// nothing added.
    Duplicate,
}

/// A worker's hold on one entry: the backend's id of the entry and the
/// token of this hold, which every later call must show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The backend's id of the entry.
    pub id: String,
    /// The token of this hold; a takeover replaces it.
    pub token: u64,
}

/// An entry a worker took: the hold and the delivery.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The hold.
    pub claim: Claim,
    /// The delivery, with [`attempt`](Delivery::attempt) set.
    pub delivery: Delivery,
}

/// An entry in flight as another worker sees it: who holds it and its
/// heartbeat count. A change of either is a sign of progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The backend's id of the entry.
    pub id: String,
    /// The token of the current hold.
    pub token: u64,
    /// The heartbeats of the current hold.
    pub beat: u64,
}

/// A delivery in the dead letters.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DeadLetter {
    /// The inbox key.
    pub key: String,
    /// The delivery id the signature covered, if any.
    pub delivery_id: Option<String>,
    /// The provider, if any.
    pub provider: Option<String>,
    /// The attempts made.
    pub attempts: u32,
    /// The last failure, as the worker described it.
    pub last_error: String,
    /// When it was received, in milliseconds since the Unix epoch.
    pub received_at_ms: i64,
}

/// What an inbox holds right now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct InboxStats {
    /// Entries waiting for a worker (retries included).
    pub depth: u64,
    /// Entries a worker holds.
    pub in_flight: u64,
    /// Dead letters.
    pub dead: u64,
    /// How long the oldest waiting or held entry has been in the inbox.
    pub oldest_age: Option<Duration>,
}

/// Why an inbox operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InboxError {
    /// The inbox holds its capacity: answered `503`, the sender retries.
    Full,
    /// The store did not answer in time.
    Timeout,
    /// The store refused or failed (its message; never a secret).
    Backend(String),
    /// An entry could not be read back.
    Corrupt(String),
}

impl InboxError {
    /// A stable label: `full`, `timeout`, `backend`, `corrupt`.
    pub fn label(&self) -> &'static str {
        match self {
            InboxError::Full => "full",
            InboxError::Timeout => "timeout",
            InboxError::Backend(_) => "backend",
            InboxError::Corrupt(_) => "corrupt",
        }
    }
}

impl fmt::Display for InboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InboxError::Full => f.write_str("the inbox is full"),
            InboxError::Timeout => f.write_str("the inbox store did not answer in time"),
            InboxError::Backend(message) => write!(f, "inbox store failed: {message}"),
            InboxError::Corrupt(message) => write!(f, "inbox entry unreadable: {message}"),
        }
    }
}

impl std::error::Error for InboxError {}

/// A durable inbox: the storage behind [`InboxLayer`] and [`Worker`].
///
/// Every call that acts on a held entry shows the [`Claim`] it got, and
/// acts only if that hold is still the current one (it returns `false`
/// otherwise): a worker whose delivery was taken over cannot complete or
/// reschedule it.
pub trait Inbox: Send + Sync + 'static {
    /// Add `delivery` under its key unless the key is there already; the
    /// entry must be durable when this returns `Added`.
    fn enqueue<'a>(&'a self, delivery: &'a Delivery) -> InboxFuture<'a, Enqueued>;

    /// Take the next waiting entry that is due, for `worker`.
    fn claim<'a>(&'a self, worker: &'a str) -> InboxFuture<'a, Option<Claimed>>;

    /// A sign of progress on a held entry; `false` if the hold is gone.
    fn heartbeat<'a>(&'a self, claim: &'a Claim) -> InboxFuture<'a, bool>;

    /// The entries in flight, for the takeover rule.
    fn held(&self) -> InboxFuture<'_, Vec<Held>>;

    /// Take over `held` for `worker` if its hold and heartbeat are still
    /// exactly those observed.
    fn take_over<'a>(&'a self, held: &'a Held, worker: &'a str)
        -> InboxFuture<'a, Option<Claimed>>;

    /// Record the delivery as processed: its key is remembered, the entry
    /// leaves the inbox.
    fn complete<'a>(&'a self, claim: &'a Claim) -> InboxFuture<'a, bool>;

    /// Put a held entry back, due at `due_ms` (Unix milliseconds), with the
    /// failure that sent it back.
    fn retry_at<'a>(
        &'a self,
        claim: &'a Claim,
        due_ms: i64,
        error: &'a str,
    ) -> InboxFuture<'a, bool>;

    /// Put a held entry back at once without counting the attempt (a worker
    /// shutting down returns what it holds).
    fn release<'a>(&'a self, claim: &'a Claim) -> InboxFuture<'a, bool>;

    /// Move a held entry to the dead letters.
    fn dead_letter<'a>(&'a self, claim: &'a Claim, error: &'a str) -> InboxFuture<'a, bool>;

    /// Up to `limit` dead letters, oldest first.
    fn dead_letters(&self, limit: usize) -> InboxFuture<'_, Vec<DeadLetter>>;

    /// Put dead letters back in the inbox with their attempts reset: the
    /// one with `key`, or all. Returns how many.
    fn retry_dead<'a>(&'a self, key: Option<&'a str>) -> InboxFuture<'a, u64>;

    /// Delete dead letters: the one with `key`, or all. Returns how many.
    fn purge_dead<'a>(&'a self, key: Option<&'a str>) -> InboxFuture<'a, u64>;

    /// What the inbox holds.
    fn stats(&self) -> InboxFuture<'_, InboxStats>;
}

impl<I: Inbox + ?Sized> Inbox for Arc<I> {
    fn enqueue<'a>(&'a self, delivery: &'a Delivery) -> InboxFuture<'a, Enqueued> {
        (**self).enqueue(delivery)
    }
    fn claim<'a>(&'a self, worker: &'a str) -> InboxFuture<'a, Option<Claimed>> {
        (**self).claim(worker)
    }
    fn heartbeat<'a>(&'a self, claim: &'a Claim) -> InboxFuture<'a, bool> {
        (**self).heartbeat(claim)
    }
    fn held(&self) -> InboxFuture<'_, Vec<Held>> {
        (**self).held()
    }
    fn take_over<'a>(
        &'a self,
        held: &'a Held,
        worker: &'a str,
    ) -> InboxFuture<'a, Option<Claimed>> {
        (**self).take_over(held, worker)
    }
    fn complete<'a>(&'a self, claim: &'a Claim) -> InboxFuture<'a, bool> {
        (**self).complete(claim)
    }
    fn retry_at<'a>(
        &'a self,
        claim: &'a Claim,
        due_ms: i64,
        error: &'a str,
    ) -> InboxFuture<'a, bool> {
        (**self).retry_at(claim, due_ms, error)
    }
    fn release<'a>(&'a self, claim: &'a Claim) -> InboxFuture<'a, bool> {
        (**self).release(claim)
    }
    fn dead_letter<'a>(&'a self, claim: &'a Claim, error: &'a str) -> InboxFuture<'a, bool> {
        (**self).dead_letter(claim, error)
    }
    fn dead_letters(&self, limit: usize) -> InboxFuture<'_, Vec<DeadLetter>> {
        (**self).dead_letters(limit)
    }
    fn retry_dead<'a>(&'a self, key: Option<&'a str>) -> InboxFuture<'a, u64> {
        (**self).retry_dead(key)
    }
    fn purge_dead<'a>(&'a self, key: Option<&'a str>) -> InboxFuture<'a, u64> {
        (**self).purge_dead(key)
    }
    fn stats(&self) -> InboxFuture<'_, InboxStats> {
        (**self).stats()
    }
}

/// Counts of what the layer and the workers did, shared by clones.
#[derive(Debug, Clone, Default)]
pub(crate) struct InboxCounters {
    inner: Arc<CounterCells>,
}

#[derive(Debug, Default)]
struct CounterCells {
    enqueued: AtomicU64,
    duplicates: AtomicU64,
    refused: AtomicU64,
    processed: AtomicU64,
    retries: AtomicU64,
    dead_lettered: AtomicU64,
    taken_over: AtomicU64,
    holds_lost: AtomicU64,
}

/// What an [`InboxLayer`] and its [`Worker`]s counted, as
/// [`InboxLayer::counts`] and [`Worker::counts`] read it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct InboxCounts {
    /// Deliveries added to the inbox.
    pub enqueued: u64,
    /// Copies of deliveries already there.
    pub duplicates: u64,
    /// Deliveries refused with `503` (store down, or full).
    pub refused: u64,
    /// Deliveries the handler completed.
    pub processed: u64,
    /// Failed attempts put back for a retry.
    pub retries: u64,
    /// Deliveries moved to the dead letters.
    pub dead_lettered: u64,
    /// Deliveries taken over from a worker that showed no progress.
    pub taken_over: u64,
    /// Holds found gone when the handler ended (taken over while this
    /// worker still ran it: alert, the delivery may run twice).
    pub holds_lost: u64,
}

impl InboxCounters {
    /// A copy of the counts.
    pub(crate) fn snapshot(&self) -> InboxCounts {
        let c = &self.inner;
        InboxCounts {
            enqueued: c.enqueued.load(Ordering::Relaxed),
            duplicates: c.duplicates.load(Ordering::Relaxed),
            refused: c.refused.load(Ordering::Relaxed),
            processed: c.processed.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            dead_lettered: c.dead_lettered.load(Ordering::Relaxed),
            taken_over: c.taken_over.load(Ordering::Relaxed),
            holds_lost: c.holds_lost.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn add(&self, which: Counter) {
        let c = &self.inner;
        let (cell, name) = match which {
            Counter::Enqueued => (&c.enqueued, "enqueued"),
            Counter::Duplicate => (&c.duplicates, "duplicate"),
            Counter::Refused => (&c.refused, "refused"),
            Counter::Processed => (&c.processed, "processed"),
            Counter::Retry => (&c.retries, "retry"),
            Counter::DeadLettered => (&c.dead_lettered, "dead_lettered"),
            Counter::TakenOver => (&c.taken_over, "taken_over"),
            Counter::HoldLost => (&c.holds_lost, "hold_lost"),
        };
        cell.fetch_add(1, Ordering::Relaxed);
        #[cfg(feature = "metrics")]
        metrics::counter!("webhook_inbox_events_total", "event" => name).increment(1);
        #[cfg(not(feature = "metrics"))]
        let _ = name;
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Counter {
    Enqueued,
    Duplicate,
    Refused,
    Processed,
    Retry,
    DeadLettered,
    TakenOver,
    HoldLost,
}

/// Publish `stats` through the `metrics` facade: the gauges
/// `webhook_inbox_depth`, `webhook_inbox_in_flight`,
/// `webhook_inbox_dead_letters` and `webhook_inbox_oldest_age_seconds`.
/// A [`Worker`] calls it after each observation. The counter
/// `webhook_inbox_events_total{event}` (`enqueued`, `duplicate`, `refused`,
/// `processed`, `retry`, `dead_lettered`, `taken_over`, `hold_lost`) and
/// the histogram `webhook_inbox_enqueue_seconds` are recorded as they
/// happen.
#[cfg(feature = "metrics")]
pub(crate) fn record_stats(stats: &InboxStats) {
    metrics::gauge!("webhook_inbox_depth").set(stats.depth as f64);
    metrics::gauge!("webhook_inbox_in_flight").set(stats.in_flight as f64);
    metrics::gauge!("webhook_inbox_dead_letters").set(stats.dead as f64);
    metrics::gauge!("webhook_inbox_oldest_age_seconds")
        .set(stats.oldest_age.map_or(0.0, |age| age.as_secs_f64()));
}

/// Milliseconds since the Unix epoch, now (0 before 1970).
pub(crate) fn unix_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A fresh hold token, from the OS generator (a counter would repeat across
/// processes sharing one store).
pub(crate) fn new_token() -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        // Unreachable on supported systems; the time still differs per call
        // often enough, and a repeat only weakens fencing, never safety of
        // the takeover rule (which also compares heartbeats).
        return unix_millis() as u64 ^ u64::from(std::process::id());
    }
    // i64 range: SQLite stores signed integers.
    u64::from_le_bytes(bytes) >> 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_survives_its_stored_form() {
        let mut delivery = Delivery::new("k1", Bytes::from_static(b"{}"));
        delivery
            .headers
            .insert("x-github-event", HeaderValue::from_static("push"));
        delivery
            .headers
            .insert("x-odd", HeaderValue::from_bytes(b"caf\xe9").unwrap());
        delivery.provider = Some("github".into());
        let back = Delivery::from_stored(&delivery.meta_json(), delivery.body.clone(), 2).unwrap();
        assert_eq!(back.headers, delivery.headers);
        assert_eq!(back.provider.as_deref(), Some("github"));
        assert_eq!(back.attempt, 2);
    }
}
