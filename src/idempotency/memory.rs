//! The default store: in process memory, bounded, with per-entry expiry.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::future::Cache;
use moka::ops::compute::{CompResult, Op};
use moka::policy::EvictionPolicy;
use moka::Expiry;

use super::store::{IdempotencyStore, Reservation, StoreFuture, StoredOutcome, Token};

/// How many keys [`MemoryStore::new`] remembers at most: 100,000.
///
/// A full store costs about 800 bytes per key (moka's bookkeeping
/// included): `examples/idempotency_flood` pushes 1,000,000 unique keys
/// through it and peaks at about 85 MB resident in a release build. It
/// covers 24 hours of a little over one delivery per second.
/// Size it to your traffic: a key evicted early lets a late retry of that
/// delivery run the handler again.
pub const DEFAULT_CAPACITY: u64 = 100_000;

/// An in-memory [`IdempotencyStore`] on a [`moka`] cache.
///
/// Right for a receiver running as one process. The cache is bounded (least
/// recently used keys are evicted first once full, so a flood of unique keys
/// cannot exhaust memory; the price is that a flood can push out the keys of
/// genuine deliveries, so size the capacity above the deliveries of one TTL)
/// and every entry carries its own expiry: the lock
/// TTL while started, the completion TTL once completed. Reservation,
/// completion and release each run under moka's per-key lock, never across
/// an `await` of the caller's.
///
/// Clones share the cache.
#[derive(Clone)]
pub struct MemoryStore {
    cache: Cache<String, Entry>,
    next_token: Arc<AtomicU64>,
}

#[derive(Clone)]
struct Entry {
    state: State,
    ttl: Duration,
}

#[derive(Clone)]
enum State {
    Started(Token),
    Completed(StoredOutcome),
}

/// Each entry lives for the TTL it was written with.
struct PerEntryTtl;

impl Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _: &String, entry: &Entry, _: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }

    fn expire_after_update(
        &self,
        _: &String,
        entry: &Entry,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }
}

impl MemoryStore {
    /// A store of at most [`DEFAULT_CAPACITY`] keys.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }

    /// A store of at most `capacity` keys.
    pub fn with_capacity(capacity: u64) -> Self {
        Self {
            cache: Cache::builder()
                .name("tower-webhook idempotency")
                .max_capacity(capacity)
                // Not TinyLFU, moka's default: under a flood it may refuse to
                // admit a new key at all, and a reservation that is dropped
                // on arrival lets a concurrent duplicate reserve it again.
                // Plain LRU always admits the newest key and evicts the
                // oldest, which for deliveries is the right victim.
                .eviction_policy(EvictionPolicy::lru())
                .expire_after(PerEntryTtl)
                .build(),
            next_token: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The number of keys held. Eviction and expiry are applied in batches;
    /// call [`run_pending_tasks`](Self::run_pending_tasks) first for an exact
    /// figure.
    pub fn entry_count(&self) -> u64 {
        self.cache.entry_count()
    }

    /// Apply pending evictions and expirations now.
    pub async fn run_pending_tasks(&self) {
        self.cache.run_pending_tasks().await;
    }

    fn token(&self) -> Token {
        // One process, so a counter is unique; it never leaves the process.
        Token::new(self.next_token.fetch_add(1, Ordering::Relaxed).to_string())
    }

    async fn finish(&self, key: &str, token: &Token, next: Option<Entry>) -> bool {
        let result = self
            .cache
            .entry(key.to_owned())
            .and_compute_with(|current| {
                let held = matches!(
                    current.as_ref().map(|entry| &entry.value().state),
                    Some(State::Started(holder)) if holder == token
                );
                std::future::ready(match (held, next) {
                    (false, _) => Op::Nop,
                    (true, Some(entry)) => Op::Put(entry),
                    (true, None) => Op::Remove,
                })
            })
            .await;
        matches!(result, CompResult::ReplacedWith(_) | CompResult::Removed(_))
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("entry_count", &self.cache.entry_count())
            .field("capacity", &self.cache.policy().max_capacity())
            .finish()
    }
}

impl IdempotencyStore for MemoryStore {
    fn reserve<'a>(&'a self, key: &'a str, lock_ttl: Duration) -> StoreFuture<'a, Reservation> {
        Box::pin(async move {
            let token = self.token();
            let started = Entry {
                state: State::Started(token.clone()),
                ttl: lock_ttl,
            };
            let result = self
                .cache
                .entry(key.to_owned())
                .and_compute_with(|current| {
                    std::future::ready(match current {
                        None => Op::Put(started),
                        Some(_) => Op::Nop,
                    })
                })
                .await;
            Ok(match result {
                CompResult::Inserted(_) => Reservation::Acquired(token),
                CompResult::Unchanged(entry) => match &entry.value().state {
                    State::Started(_) => Reservation::InFlight,
                    State::Completed(outcome) => Reservation::Completed(*outcome),
                },
                // The closure only inserts into an empty slot or leaves it.
                CompResult::ReplacedWith(_) | CompResult::Removed(_) | CompResult::StillNone(_) => {
                    Reservation::InFlight
                }
            })
        })
    }

    fn complete<'a>(
        &'a self,
        key: &'a str,
        token: &'a Token,
        outcome: StoredOutcome,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let completed = Entry {
                state: State::Completed(outcome),
                ttl,
            };
            Ok(self.finish(key, token, Some(completed)).await)
        })
    }

    fn release<'a>(&'a self, key: &'a str, token: &'a Token) -> StoreFuture<'a, bool> {
        Box::pin(async move { Ok(self.finish(key, token, None).await) })
    }

    fn renew<'a>(
        &'a self,
        key: &'a str,
        token: &'a Token,
        lock_ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            // The same entry written again: its expiry restarts at `lock_ttl`.
            let renewed = Entry {
                state: State::Started(token.clone()),
                ttl: lock_ttl,
            };
            Ok(self.finish(key, token, Some(renewed)).await)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(future)
    }

    const LOCK: Duration = Duration::from_secs(60);
    const TTL: Duration = Duration::from_secs(3600);

    #[test]
    fn three_states_are_distinct() {
        block_on(async {
            let store = MemoryStore::new();
            let Reservation::Acquired(token) = store.reserve("k", LOCK).await.unwrap() else {
                panic!("first reservation must acquire");
            };
            assert_eq!(
                store.reserve("k", LOCK).await.unwrap(),
                Reservation::InFlight
            );
            let ok = StoredOutcome::new(StatusCode::CREATED);
            assert!(store.complete("k", &token, ok, TTL).await.unwrap());
            assert_eq!(
                store.reserve("k", LOCK).await.unwrap(),
                Reservation::Completed(ok)
            );
        });
    }

    #[test]
    fn release_frees_the_key_and_foreign_tokens_change_nothing() {
        block_on(async {
            let store = MemoryStore::new();
            let Reservation::Acquired(token) = store.reserve("k", LOCK).await.unwrap() else {
                panic!("first reservation must acquire");
            };
            let stranger = Token::new("stranger");
            let ok = StoredOutcome::new(StatusCode::OK);
            assert!(!store.complete("k", &stranger, ok, TTL).await.unwrap());
            assert!(!store.release("k", &stranger).await.unwrap());
            assert_eq!(
                store.reserve("k", LOCK).await.unwrap(),
                Reservation::InFlight
            );

            assert!(store.release("k", &token).await.unwrap());
            // Released twice: the second finds nothing of ours.
            assert!(!store.release("k", &token).await.unwrap());
            assert!(matches!(
                store.reserve("k", LOCK).await.unwrap(),
                Reservation::Acquired(_)
            ));
        });
    }

    #[test]
    fn an_expired_lock_can_be_taken_over_without_clobbering() {
        block_on(async {
            let store = MemoryStore::new();
            let short = Duration::from_millis(20);
            let Reservation::Acquired(first) = store.reserve("k", short).await.unwrap() else {
                panic!("first reservation must acquire");
            };
            tokio::time::sleep(Duration::from_millis(60)).await;
            let Reservation::Acquired(second) = store.reserve("k", LOCK).await.unwrap() else {
                panic!("expired lock must be free");
            };
            // The first holder wakes up late: it must not touch the new lock.
            let ok = StoredOutcome::new(StatusCode::OK);
            assert!(!store.complete("k", &first, ok, TTL).await.unwrap());
            assert_eq!(
                store.reserve("k", LOCK).await.unwrap(),
                Reservation::InFlight
            );
            assert!(store.complete("k", &second, ok, TTL).await.unwrap());
        });
    }

    #[test]
    fn renewal_extends_only_the_holders_lease() {
        block_on(async {
            let store = MemoryStore::new();
            let short = Duration::from_millis(40);
            let Reservation::Acquired(token) = store.reserve("k", short).await.unwrap() else {
                panic!("first reservation must acquire");
            };
            assert!(!store
                .renew("k", &Token::new("stranger"), LOCK)
                .await
                .unwrap());
            assert!(store.renew("k", &token, LOCK).await.unwrap());
            tokio::time::sleep(Duration::from_millis(80)).await;
            // Past the first lease: still held, thanks to the renewal.
            assert_eq!(
                store.reserve("k", LOCK).await.unwrap(),
                Reservation::InFlight
            );
            assert!(store.release("k", &token).await.unwrap());
            assert!(!store.renew("k", &token, LOCK).await.unwrap());
        });
    }

    #[test]
    fn concurrent_reservations_acquire_once() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        runtime.block_on(async {
            let store = MemoryStore::new();
            let tasks: Vec<_> = (0..200)
                .map(|_| {
                    let store = store.clone();
                    tokio::spawn(async move { store.reserve("same", LOCK).await.unwrap() })
                })
                .collect();
            let mut acquired = 0;
            for task in tasks {
                if matches!(task.await.unwrap(), Reservation::Acquired(_)) {
                    acquired += 1;
                }
            }
            assert_eq!(acquired, 1);
        });
    }
}
