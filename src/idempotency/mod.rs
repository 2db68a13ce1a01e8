//! Each delivery handled once, however often it arrives.
//!
//! Senders retry until they hear a `2xx`, and an attacker who captured a
//! signed request can send it again. [`IdempotencyLayer`] gives every
//! delivery a key and remembers it:
//!
//! | the key is... | the request gets | the handler |
//! |---|---|---|
//! | new | whatever the handler answers | runs |
//! | reserved by a copy still running | `409 Conflict`, `Retry-After`, reason `in_flight` | does not run |
//! | completed | `200 OK` and `Idempotent-Replayed: true`, an [`Answer`](crate::Answer) of kind `duplicate` | does not run |
//! | released after a failure | whatever the handler answers | runs again |
//! | unreadable: the store is down | `503`, `Retry-After`, reason `store_unavailable` | does not run (unless [`fail_open`](IdempotencyLayer::fail_open)) |
//!
//! The reason of a refusal, or the kind of the answer, is recorded in the
//! [`WebhookContext`](crate::WebhookContext) and put in the response
//! extensions, so the audit layer records a duplicate as a duplicate
//! (outcome `duplicate`), never as a rejection.
//!
//! ```
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::sync::Arc;
//!
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode};
//! use http_body_util::Full;
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_webhook::body::BufferedBody;
//! use tower_webhook::idempotency::{IdempotencyLayer, REPLAYED_HEADER};
//! use tower_webhook::Answer;
//!
//! # tokio_block_on(async {
//! let runs = Arc::new(AtomicUsize::new(0));
//! let counted = Arc::clone(&runs);
//! let service = ServiceBuilder::new()
//!     // No signature layer here (a token-authenticated sender, say): keys
//!     // from the `webhook-id` header; kept in memory.
//!     .layer(IdempotencyLayer::from_unsigned_header(http::HeaderName::from_static("webhook-id")))
//!     .service_fn(move |_: Request<BufferedBody>| {
//!         counted.fetch_add(1, Ordering::SeqCst);
//!         async { Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::new()))) }
//!     });
//!
//! let delivery = || {
//!     Request::post("/webhooks")
//!         .header("webhook-id", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W")
//!         .body(Full::new(Bytes::from_static(b"{\"type\":\"invoice.paid\"}")))
//!         .unwrap()
//! };
//!
//! let first = service.clone().oneshot(delivery()).await.unwrap();
//! assert_eq!(first.status(), StatusCode::OK);
//!
//! // The sender retries: acknowledged, the handler does not run again.
//! let retry = service.clone().oneshot(delivery()).await.unwrap();
//! assert_eq!(retry.status(), StatusCode::OK);
//! assert_eq!(retry.headers()[REPLAYED_HEADER], "true");
//! assert_eq!(Answer::of(&retry).map(Answer::kind), Some("duplicate"));
//! assert_eq!(runs.load(Ordering::SeqCst), 1);
//! # });
//! # fn tokio_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```
//!
//! # The key
//!
//! Only authenticated data decides which delivery a request is. By default
//! ([`new`](IdempotencyLayer::new)), a request a signature authenticated is
//! keyed on what that signature covers ([`KeySource::SignedDelivery`]):
//!
//! 1. the delivery id the signature covers, where the provider signs one
//!    (Standard Webhooks' `webhook-id`, Svix's `svix-id`, Twitch's message
//!    id, Mailgun's token);
//! 2. else the provider's id field inside the signed body
//!    ([`SignedMessage::delivery_id_field`](crate::context::SignedMessage::delivery_id_field):
//!    Stripe's `/id`, Slack's `/event_id`);
//! 3. else a SHA-256 digest of the signed message (timestamp, signed URL,
//!    body, in the scheme's canonical form): GitHub and Shopify do not sign
//!    their delivery-id headers, so the same signed bytes re-sent under a
//!    new header are still the same delivery.
//!
//! An unsigned header never decides the key of a signed request: whoever
//! captured the request could send it again under a new value and run the
//! handler once per value. Requests authenticated otherwise (a token, a
//! legacy token, an allowlisted address) are keyed on the usual delivery
//! headers (`Idempotency-Key`, `webhook-id`, `svix-id`,
//! `X-GitHub-Delivery`). Signed and unsigned keys live apart in
//! the store, so a weaker credential cannot claim a signed delivery's id
//! before it arrives.
//!
//! Other sources: [`from_unsigned_header`](IdempotencyLayer::from_unsigned_header)
//! (for token senders), [`from_json_field`](IdempotencyLayer::from_json_field)
//! (a JSON pointer; authenticated whenever a signature covers the body, and
//! no key when the signature does not, as Mailgun's), chained with
//! `or_unsigned_header` and `or_json_field`.
//! [`accept_unsigned_keys_for_signed_requests`](IdempotencyLayer::accept_unsigned_keys_for_signed_requests)
//! lets unsigned headers key signed requests again, for those who accept the
//! replay it reopens. The [stack builder](crate::stack::WebhookStack)
//! refuses key sources that cannot serve the requests it accepts.
//!
//! A header repeated with identical values counts once (the rule of every
//! layer); different values are no key.
//! A key longer than 256 bytes or containing control
//! characters is replaced by its SHA-256 rather than refused: the sender
//! would retry a refused delivery forever. A request with no key is refused
//! with `400 payload_incomplete`, or passed through unprotected with
//! [`allow_missing_key`](IdempotencyLayer::allow_missing_key).
//! Keys are kept apart per tenant (the context's `tenant`, set by a tenant
//! resolver) and per route (the percent-decoded request path, the form a
//! router hands its handler, or a fixed
//! [`namespace`](IdempotencyLayer::namespace)), so two senders
//! that happen to use the same ids cannot suppress each other's
//! deliveries. The key is recorded in the context
//! ([`Verification::idempotency_key`](crate::Verification::idempotency_key)).
//!
//! Place the layer inside the signature layer (see the crate's recommended
//! order): keys are then only ever reserved by authenticated senders.
//!
//! # What completes a delivery
//!
//! * `2xx` (and `1xx`/`3xx`): completed, remembered for the TTL.
//! * `4xx`: completed — the handler judged the bytes, and the same bytes
//!   would be judged the same way — except the transient `408`, `409`, `425`
//!   and `429`, which release. [`release_on_client_error`] releases on every
//!   `4xx`.
//! * `5xx` or a service error: released, so the sender's retry runs the
//!   handler again.
//! * gRPC (HTTP `200` whatever happened): `grpc-status: 0` completes, any
//!   other status releases, whether it comes in the headers (a trailers-only
//!   answer, as tonic sends errors) or in the trailers (then the outcome is
//!   recorded when the body ends, before the trailers are passed on).
//!
//! The outcome is recorded before the response leaves, so the sender's next
//! retry already sees it. A completion the store does not take is retried
//! (backoff up to 1 s) for up to the lock TTL before the response leaves,
//! then in the background; one that can never land is counted in
//! [`IdempotencyCounts::completions_lost`] and logged as an error.
//!
//! # The reservation is a lease
//!
//! While the handler runs, the layer renews the reservation every third of
//! the lock TTL, so a handler slower than the lock TTL keeps it and a copy
//! gets `409` rather than a second run. Each renewal advances the
//! reservation's progress in the store.
//!
//! A reservation never lapses on the store's clock (the store keeps it for
//! ten lock TTLs, an hour at least, only to collect keys nobody
//! asks about again): a stopped store's clock runs on while nobody can
//! renew, and would hand a live holder's delivery to a copy when it wakes.
//! Instead a replica that answers a copy `409` watches the holder: it takes
//! the delivery over (and runs it) only once it has seen the same holder,
//! with no progress, for a lock TTL of its own monotonic clock, while every
//! store call it made in that time was answered within a renewal period (it
//! pings the store every sixth of the lock TTL while it watches). A stopped
//! or unreachable store therefore delays deliveries, with `503`s and
//! `409`s, but hands none to a second replica while the first is alive; a
//! replica that crashed mid-handler is taken over by a copy arriving a lock
//! TTL after the first copy it refused ([`IdempotencyCounts::takeovers`],
//! logged as `idempotency.takeover`).
//!
//! A replica watches at most 4096 holders. When copies of more in-flight
//! deliveries than that arrive, the ones it already watches are still
//! taken over a lock TTL after their first refused copy; a new one is
//! watched from its first copy after room frees up (a watched delivery is
//! taken over or settled, or its watch goes stale: begun before the store
//! last failed to answer, or more than ten lock TTLs ago), and meanwhile
//! gets `409`.
//!
//! If the holder learns its reservation is gone (taken over, or the store
//! restarted without persistence) the handler is not interrupted — stopping
//! it halfway is worse — but the layer counts it in
//! [`IdempotencyCounts::leases_lost`] and logs an error
//! (`idempotency.lease_lost`): alert on it. That takes a holder that
//! stopped showing progress while alive: the replica itself paused (a GC or
//! VM pause, SIGSTOP) or cut off from a store the others still reach, for
//! longer than the lock TTL.
//!
//! If the request is dropped while the handler runs (the client hung up, a
//! `TimeoutLayer` fired) or the handler panics, the reservation is released
//! at once — a task spawned on the tokio runtime, since `Drop` cannot
//! await — so the sender's retry runs the handler; the audit layer records
//! the request as `webhook.rejected` with reason `cancelled` or `panicked`.
//! Outside a tokio runtime the reservation is not renewed, and a copy takes
//! it over as from a crashed replica.
//!
//! Duplicates of a completed delivery are answered `200` by default;
//! [`acknowledge_duplicates_with`](IdempotencyLayer::acknowledge_duplicates_with)
//! picks another status, [`replay_stored_status`](IdempotencyLayer::replay_stored_status)
//! answers with the status the handler gave the first time.
//!
//! # Time and space
//!
//! Completed keys are remembered for 24 h by default. A replica
//! that crashed mid-request blocks its key until a copy arrives
//! 60 s (the default lock TTL) after the first copy refused with `409`. The TTL must be at least the replay
//! window, or a replay arriving after the key expired but inside the window
//! would run the handler again:
//! [`check_against_replay_window`](IdempotencyLayer::check_against_replay_window)
//! says so (the stack builder refuses such a configuration).
//!
//! # Stores
//!
//! A store implements [`IdempotencyStore`]: three states per key (absent,
//! started, completed), an atomic reservation, completion, release and
//! renewal that only act for the holder of the reservation's [`Token`], and
//! a takeover that only replaces the [`Holder`] a replica watched.
//!
//! * [`MemoryStore`] (the default): 1,000,000 keys
//!   in fixed 32-byte entries (about 50 bytes a key with the index), keyed
//!   by a secret-keyed 128-bit hash, the oldest reservation evicted first
//!   when full. For one process.
//! * `RedisStore` (feature `redis`): shared by every replica; atomic
//!   `SET NX PX`, token-checked Lua scripts, a reconnecting connection with
//!   a per-operation timeout; Redis Cluster (`redis-cluster`), Sentinel
//!   (`redis-sentinel`) and TLS (`redis-tls`); settings in `RedisOptions`.
//!   The README's "Exactly once, and when it is not" says what survives
//!   which Redis fault.
//!
//! When the store fails the layer fails closed (`503`); choose
//! [`fail_open`](IdempotencyLayer::fail_open) only for handlers that are
//! idempotent on their own.
//!
//! ```
//! use std::time::Duration;
//! use axum::{routing::post, Router};
//! use tower_webhook::idempotency::{IdempotencyLayer, MemoryStore};
//!
//! // Stripe: the event id is in the signed body (the scheme says where), and
//! // Stripe retries for 3 days.
//! let stripe = IdempotencyLayer::new()
//!     .ttl(Duration::from_secs(3 * 24 * 3600))
//!     .store(MemoryStore::with_capacity(500_000));
//! assert!(stripe.check_against_replay_window(Duration::from_secs(300)).is_ok());
//!
//! let app: Router = Router::new()
//!     .route("/webhooks/stripe", post(|| async { "ok" }))
//!     .layer(stripe);
//! # let _ = app;
//! ```
//!
//! [`release_on_client_error`]: IdempotencyLayer::release_on_client_error

mod future;
pub(crate) mod key;
mod layer;
mod lease;
mod memory;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "redis")]
mod redis_backend;
mod service;
mod store;
#[cfg(test)]
mod tests;
mod watch;

#[cfg(feature = "redis")]
pub use self::redis::{Persistence, RedisStore};
#[cfg(feature = "redis")]
pub(crate) use self::redis_backend::Backend as RedisBackend;
#[cfg(feature = "redis")]
pub use self::redis_backend::RedisOptions;
pub use future::ResponseFuture;
pub use key::KeySource;
pub(crate) use layer::DEFAULT_TTL;
pub use layer::{ConfigError, IdempotencyLayer};

pub use lease::IdempotencyCounts;
pub use memory::MemoryStore;
pub use service::{Idempotency, REPLAYED_HEADER};
pub use store::{
    Holder, IdempotencyStore, Reservation, StoreError, StoreFuture, StoredOutcome, Token,
};
