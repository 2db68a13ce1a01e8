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
//! | completed | `200 OK` and `Idempotent-Replayed: true`, reason `duplicate` | does not run |
//! | released after a failure | whatever the handler answers | runs again |
//! | unreadable: the store is down | `503`, `Retry-After`, reason `store_unavailable` | does not run (unless [`fail_open`](IdempotencyLayer::fail_open)) |
//!
//! The reason is recorded in the [`WebhookContext`](crate::WebhookContext)
//! and put in the response extensions, like every rejection, so the audit
//! layer sees duplicates too.
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
//! use tower_webhook::Reason;
//!
//! # tokio_block_on(async {
//! let runs = Arc::new(AtomicUsize::new(0));
//! let counted = Arc::clone(&runs);
//! let service = ServiceBuilder::new()
//!     // Keys from `Idempotency-Key`, `webhook-id`, `svix-id` or
//!     // `X-GitHub-Delivery`, else the matched signature; kept in memory.
//!     .layer(IdempotencyLayer::new())
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
//! assert_eq!(retry.extensions().get::<Reason>(), Some(&Reason::Duplicate));
//! assert_eq!(runs.load(Ordering::SeqCst), 1);
//! # });
//! # fn tokio_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```
//!
//! # The key
//!
//! From the first of its [`KeySource`]s that has one: a header
//! ([`from_header`](IdempotencyLayer::from_header), any name), a field of
//! the JSON body ([`from_json_field`](IdempotencyLayer::from_json_field), a
//! JSON pointer such as Stripe's `/id`; the body is read once, through
//! [`body::buffer`](crate::body::buffer), and reused by every layer), or —
//! for senders that send no delivery id — the signature the signature layer
//! matched ([`from_signature`](IdempotencyLayer::from_signature), hashed).
//! Chain fallbacks with `or_header`, `or_json_field`, `or_signature`.
//!
//! A key longer than [`MAX_KEY_LEN`] (256 bytes) or containing control
//! characters is replaced by its SHA-256 rather than refused: the sender
//! would retry a refused delivery forever. A request with no key is refused
//! with `400 payload_incomplete`, or passed through unprotected with
//! [`allow_missing_key`](IdempotencyLayer::allow_missing_key).
//!
//! Keys are kept apart per tenant (the context's `tenant`, set by a tenant
//! resolver) and per route (the request path, or a fixed
//! [`with_namespace`](IdempotencyLayer::with_namespace)), so two senders
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
//!
//! The outcome is recorded before the response leaves, so the sender's next
//! retry already sees it. If the client hangs up while the handler runs, the
//! response future is dropped and the reservation lapses after the lock TTL
//! (default 60 s); until then copies get `409`.
//!
//! Duplicates of a completed delivery are answered `200` by default;
//! [`acknowledge_duplicates_with`](IdempotencyLayer::acknowledge_duplicates_with)
//! picks another status, [`replay_stored_status`](IdempotencyLayer::replay_stored_status)
//! answers with the status the handler gave the first time.
//!
//! # Time and space
//!
//! Completed keys are remembered for [`DEFAULT_TTL`] (24 h), reservations
//! for [`DEFAULT_LOCK_TTL`] (60 s, so a replica that crashed mid-request
//! blocks a key only that long). The TTL must be at least the replay
//! window, or a replay arriving after the key expired but inside the window
//! would run the handler again:
//! [`check_against_replay_window`](IdempotencyLayer::check_against_replay_window)
//! says so (the stack builder refuses such a configuration).
//!
//! # Stores
//!
//! A store implements [`IdempotencyStore`]: three states per key (absent,
//! started, completed), an atomic reservation, and completion, release and
//! renewal that only act for the holder of the reservation's [`Token`].
//!
//! * [`MemoryStore`] (the default): [`DEFAULT_CAPACITY`] keys (1,000,000)
//!   in fixed 32-byte entries (about 50 bytes a key with the index), keyed
//!   by a secret-keyed 128-bit hash, the oldest reservation evicted first
//!   when full. For one process.
//! * `RedisStore` (feature `redis`): shared by every replica; atomic
//!   `SET NX PX`, token-checked Lua scripts, a reconnecting connection with
//!   a per-operation timeout.
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
//! // Stripe: the event id is in the body, and Stripe retries for 3 days.
//! let stripe = IdempotencyLayer::from_json_field("/id")
//!     .with_ttl(Duration::from_secs(3 * 24 * 3600))
//!     .with_store(MemoryStore::with_capacity(500_000));
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
mod key;
mod layer;
mod memory;
#[cfg(feature = "redis")]
mod redis;
mod service;
mod store;

#[cfg(feature = "redis")]
pub use self::redis::RedisStore;
pub use future::ResponseFuture;
pub use key::{KeySource, DEFAULT_KEY_HEADERS, MAX_KEY_LEN};
pub use layer::{
    ConfigError, DuplicateAck, IdempotencyLayer, DEFAULT_LOCK_TTL, DEFAULT_RETRY_AFTER, DEFAULT_TTL,
};
pub use memory::{MemoryStore, DEFAULT_CAPACITY};
pub use service::{Idempotency, REPLAYED_HEADER};
pub use store::{IdempotencyStore, Reservation, StoreError, StoreFuture, StoredOutcome, Token};
