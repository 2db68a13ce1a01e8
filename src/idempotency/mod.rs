//! Exactly-once handling of webhook deliveries.
//!
//! TODO docs

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
