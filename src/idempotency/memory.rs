//! The default store: in process memory, fixed-size entries, a hard bound.

use std::collections::VecDeque;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use http::StatusCode;
use siphasher::sip128::SipHasher13;

use super::store::{
    reservation_retention, Holder, IdempotencyStore, Reservation, StoreFuture, StoredOutcome, Token,
};

/// How many keys [`MemoryStore::new`] remembers at most: 1,000,000.
///
/// Every key costs the same 32-byte entry plus its share of the index,
/// about 50 bytes in all once the store is full: `examples/idempotency_flood`
/// pushes 2,000,000 unique keys through a store of this size and reports
/// the bytes per key it measured. A million keys cover 24 hours of about
/// eleven deliveries a second. Size it to your traffic: a key evicted early
/// lets a late retry of that delivery run the handler again.
pub(crate) const DEFAULT_CAPACITY: u64 = 1_000_000;

/// Below this many keys per shard the store uses fewer shards: eviction is
/// per shard, and tiny shards would evict far from the global oldest.
const MIN_SHARD_CAPACITY: u64 = 256;
const MAX_SHARDS: u64 = 1 << SHARD_BITS;
const SHARD_BITS: u32 = 6;
const MAX_SHARD_CAPACITY: u64 = 1 << 28;

/// An in-memory [`IdempotencyStore`] made for remembering deliveries.
///
/// Right for a receiver running as one process.
///
/// * **Fixed-size entries.** A key is remembered as its 128-bit SipHash-1-3
///   under a key drawn from the OS when the store is created, so an entry is
///   32 bytes however long the key, and a sender cannot aim two deliveries at
///   one entry (it would have to find a collision of a secret-keyed 128-bit
///   hash).
/// * **A hard bound.** At most `capacity` keys. When full, the key reserved
///   longest ago is evicted to admit the new one — for deliveries the right
///   victim: retries come soon after the original. Size the capacity above
///   the deliveries of one TTL; a flood of unique keys pushes genuine ones
///   out sooner.
/// * **No takeover on the store's clock.** A started entry is kept for
///   ten lock TTLs (an hour at least), not the lock TTL: a holder
///   is presumed dead only by a layer that watched it make no progress (its
///   renewals change the entry's deadline) for a lock TTL, and then taken
///   over with [`take_over`](IdempotencyStore::take_over).
/// * **Expiry in insertion order.** Entries sit in a queue in the order they
///   were reserved and carry their deadline (the retention while started,
///   the completion TTL once completed); an expired entry counts as absent at
///   once and its space is reclaimed when it reaches the front of the queue.
///   With one TTL per layer (the usual case) that is the order they expire
///   in. Expired entries still queued behind a live one count towards
///   [`entry_count`](Self::entry_count) and the capacity until then.
/// * **Sharded.** Keys are spread over up to 64 shards, each behind its own
///   lock, held for a table lookup and never across an `await`. Eviction is
///   per shard, so "oldest" is the oldest of the key's shard.
///
/// Every operation takes effect when the method is called, and the future
/// it returns is ready when first polled. No allocation per entry: each
/// shard grows its queue and index in steps, up to the bound, and keeps
/// them.
///
/// Clones share the store.
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

struct Inner {
    hasher: SipHasher13,
    epoch: Instant,
    shards: Box<[Mutex<Shard>]>,
    capacity: u64,
}

/// A fixed-size stand-in for a store key.
type Fingerprint = [u64; 2];

/// One remembered key: 32 bytes.
#[derive(Debug, Clone, Copy)]
struct Slot {
    key: Fingerprint,
    /// Nanoseconds after the store's epoch when the entry lapses.
    deadline: u64,
    /// [`VACANT`], [`COMPLETED`] with the status in the low bits, or the
    /// token of the reservation (below [`COMPLETED`]).
    state: u64,
}

/// A released entry still in the queue.
const VACANT: u64 = 0;
const COMPLETED: u64 = 1 << 63;

/// The keys of one shard, in the order they were reserved.
struct Shard {
    /// Positions in `queue`, found by fingerprint: every live entry's, and
    /// stale ones of entries that have left the front since the last rebuild.
    index: Index,
    /// Entries in reservation order, released ones left as [`VACANT`] until
    /// they reach the front or the shard is compacted.
    queue: VecDeque<Slot>,
    /// The position of `queue[0]`. Positions count up, wrapping, so an
    /// entry keeps its position while entries before it leave the queue.
    head: u32,
    /// Entries in `queue` that are not [`VACANT`].
    live: usize,
    /// At most this many live entries.
    capacity: usize,
    /// At most this many entries, vacant ones included: past it the shard
    /// compacts, which the vacant quarter pays for.
    limit: usize,
    /// Reservations so far: with the shard's number, the token of the next.
    reservations: u64,
    number: u64,
}

impl MemoryStore {
    /// A store of at most 1,000,000 keys.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }

    /// A store of at most `capacity` keys (at least 1). Memory is taken as
    /// keys arrive, up to about 50 bytes per key.
    pub fn with_capacity(capacity: u64) -> Self {
        let capacity = capacity.max(1);
        let shards = (capacity / MIN_SHARD_CAPACITY).clamp(1, MAX_SHARDS);
        // A power of two, so the shard is a mask of the fingerprint.
        let shards = 1u64 << shards.ilog2();
        let shards: Box<[Mutex<Shard>]> = (0..shards)
            .map(|n| {
                let share = capacity / shards + u64::from(n < capacity % shards);
                // Positions in a shard are 32-bit.
                Mutex::new(Shard::new(n, share.min(MAX_SHARD_CAPACITY) as usize))
            })
            .collect();
        let capacity = shards.iter().map(|shard| lock(shard).capacity as u64).sum();
        let (k0, k1) = random_keys();
        Self {
            inner: Arc::new(Inner {
                hasher: SipHasher13::new_with_keys(k0, k1),
                epoch: Instant::now(),
                shards,
                capacity,
            }),
        }
    }

    /// The most keys the store holds.
    pub fn capacity(&self) -> u64 {
        self.inner.capacity
    }

    /// The number of keys held: started and completed, including expired
    /// ones not yet reclaimed (see the type's documentation).
    pub fn entry_count(&self) -> u64 {
        self.inner
            .shards
            .iter()
            .map(|shard| lock(shard).live as u64)
            .sum()
    }

    /// The bytes the store has allocated for its entries and indexes (not
    /// counting the allocator's own overhead).
    pub fn allocated_bytes(&self) -> usize {
        self.inner
            .shards
            .iter()
            .map(|shard| lock(shard).allocated_bytes())
            .sum::<usize>()
            + std::mem::size_of_val(&*self.inner.shards)
    }

    fn fingerprint(&self, key: &str) -> Fingerprint {
        let (a, b) = self.inner.hasher.hash(key.as_bytes()).as_u64();
        [a, b]
    }

    fn shard(&self, key: &Fingerprint) -> MutexGuard<'_, Shard> {
        let shards = &self.inner.shards;
        // The low half feeds the shard's table; the high half picks the shard.
        lock(&shards[(key[1] as usize) & (shards.len() - 1)])
    }

    fn now(&self) -> u64 {
        nanos(self.inner.epoch.elapsed())
    }

    fn reserve_at(&self, key: &str, lock_ttl: Duration, now: u64) -> Reservation {
        self.claim_at(key, lock_ttl, now, None)
    }

    fn take_over_at(
        &self,
        key: &str,
        holder: &Holder,
        lock_ttl: Duration,
        now: u64,
    ) -> Reservation {
        // A token this store never issued holds nothing here: only report.
        let expected = decode_token(holder.token()).map(|token| (token, holder.progress()));
        self.claim_at(key, lock_ttl, now, Some(expected.unwrap_or((VACANT, 0))))
    }

    /// Reserve `key`, also in place of the `replacing` (token, deadline) if
    /// that is who holds it.
    fn claim_at(
        &self,
        key: &str,
        lock_ttl: Duration,
        now: u64,
        replacing: Option<(u64, u64)>,
    ) -> Reservation {
        let key = self.fingerprint(key);
        let deadline = now.saturating_add(nanos(reservation_retention(lock_ttl)));
        let mut shard = self.shard(&key);
        match shard.reserve(key, deadline, now, replacing) {
            Ok(token) => Reservation::Acquired(encode_token(token)),
            Err(slot) if slot.state & COMPLETED != 0 => {
                // Only valid statuses are ever stored.
                let status =
                    StatusCode::from_u16((slot.state & 0xffff) as u16).unwrap_or(StatusCode::OK);
                Reservation::Completed(StoredOutcome::new(status))
            }
            // The deadline moves with every renewal: it is the progress.
            Err(slot) => {
                Reservation::InFlight(Holder::new(encode_token(slot.state), slot.deadline))
            }
        }
    }

    /// Apply `change` to the entry of `key` if it is started with `token`
    /// and not expired.
    fn with_held(&self, key: &str, token: &Token, now: u64, change: Change) -> bool {
        let Some(token) = decode_token(token) else {
            return false;
        };
        let key = self.fingerprint(key);
        self.shard(&key).change_held(key, token, now, change)
    }

    fn complete_at(
        &self,
        key: &str,
        token: &Token,
        outcome: StoredOutcome,
        ttl: Duration,
        now: u64,
    ) -> bool {
        let state = COMPLETED | u64::from(outcome.status().as_u16());
        let deadline = now.saturating_add(nanos(ttl));
        self.with_held(key, token, now, Change::Set { state, deadline })
    }

    fn release_at(&self, key: &str, token: &Token, now: u64) -> bool {
        self.with_held(key, token, now, Change::Remove)
    }

    fn renew_at(&self, key: &str, token: &Token, lock_ttl: Duration, now: u64) -> bool {
        let deadline = now.saturating_add(nanos(reservation_retention(lock_ttl)));
        self.with_held(key, token, now, Change::Extend { deadline })
    }
}

/// What a holder does to its entry.
#[derive(Clone, Copy)]
enum Change {
    Set { state: u64, deadline: u64 },
    Extend { deadline: u64 },
    Remove,
}

impl Shard {
    fn new(number: u64, capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            index: Index::default(),
            queue: VecDeque::new(),
            head: 0,
            live: 0,
            capacity,
            limit: capacity.saturating_add((capacity / 4).max(1)),
            reservations: 0,
            number,
        }
    }

    fn slot(&self, position: u32) -> &Slot {
        &self.queue[position.wrapping_sub(self.head) as usize]
    }

    fn slot_mut(&mut self, position: u32) -> &mut Slot {
        &mut self.queue[position.wrapping_sub(self.head) as usize]
    }

    fn find(&self, key: &Fingerprint) -> Option<u32> {
        let (queue, head) = (&self.queue, self.head);
        self.index
            .find(key[0], |position| {
                // Positions that left the queue are stale (see `pop_front`).
                queue
                    .get(position.wrapping_sub(head) as usize)
                    .is_some_and(|slot| slot.key == *key && slot.state != VACANT)
            })
            .map(|(_, position)| position)
    }

    /// Forget the entry at `position` now, while its index line is hot.
    fn unindex(&mut self, key: &Fingerprint, position: u32) {
        if let Some((at, _)) = self.index.find(key[0], |p| p == position) {
            self.index.remove(at);
        }
        self.live -= 1;
    }

    /// Reserve `key` until `deadline`, also in place of the started entry
    /// `replacing` (token, deadline): its new token, or the entry that
    /// holds it.
    fn reserve(
        &mut self,
        key: Fingerprint,
        deadline: u64,
        now: u64,
        replacing: Option<(u64, u64)>,
    ) -> Result<u64, Slot> {
        self.reclaim(now);
        if let Some(position) = self.find(&key) {
            let slot = *self.slot(position);
            let replaced = replacing.is_some_and(|(token, progress)| {
                slot.state & COMPLETED == 0 && slot.state == token && slot.deadline == progress
            });
            if slot.deadline > now && !replaced {
                return Err(slot);
            }
            // Lapsed or taken over: gone, and its place goes with it, so
            // the new reservation queues at the back like any other.
            self.unindex(&key, position);
            self.slot_mut(position).state = VACANT;
        }
        // Unique in the store (the shard's number in the low bits), never
        // VACANT, below COMPLETED: 2^57 reservations per shard before a
        // token repeats.
        self.reservations = (self.reservations + 1) % (1 << 57);
        let state = (self.reservations.max(1) << SHARD_BITS) | self.number;
        self.push(Slot {
            key,
            deadline,
            state,
        });
        Ok(state)
    }

    fn change_held(&mut self, key: Fingerprint, token: u64, now: u64, change: Change) -> bool {
        let Some(position) = self.find(&key) else {
            return false;
        };
        let slot = self.slot_mut(position);
        if slot.state != token || slot.deadline <= now {
            return false;
        }
        match change {
            Change::Set { state, deadline } => {
                slot.state = state;
                slot.deadline = deadline;
            }
            // Always later: the deadline is the holder's progress, which a
            // renewal must change.
            Change::Extend { deadline } => {
                slot.deadline = deadline.max(slot.deadline.saturating_add(1));
            }
            Change::Remove => {
                slot.state = VACANT;
                self.unindex(&key, position);
                // The common case: released before anything else queued.
                while self.queue.back().is_some_and(|slot| slot.state == VACANT) {
                    self.queue.pop_back();
                }
            }
        }
        true
    }

    /// Drop vacant and expired entries from the front.
    fn reclaim(&mut self, now: u64) {
        while let Some(&front) = self.queue.front() {
            if front.state != VACANT && front.deadline > now {
                break;
            }
            self.pop_front();
        }
    }

    /// Drop the front entry. Its index entry is left behind, stale: finding
    /// it would cost a cache miss on every eviction of a large store, while
    /// the stale entries are dropped all at once when the index would
    /// otherwise grow (`make_index_room`).
    fn pop_front(&mut self) {
        if self
            .queue
            .pop_front()
            .is_some_and(|slot| slot.state != VACANT)
        {
            self.live -= 1;
        }
        self.head = self.head.wrapping_add(1);
    }

    /// Make room for one more index entry. When the index is full (of
    /// live, stale and removed entries) it is rebuilt from the queue, with
    /// only the live entries, at twice their number: the stale and removed
    /// ones go, and the next rebuild is at least three eighths of the index
    /// away, so its cost is spread over the inserts that filled it.
    fn make_index_room(&mut self) {
        if !self.index.is_full() {
            return;
        }
        self.reindex();
    }

    fn push(&mut self, slot: Slot) {
        if self.live >= self.capacity {
            self.evict_oldest();
        } else if self.queue.len() >= self.limit {
            self.compact();
        }
        if self.queue.len() == self.queue.capacity() {
            // Grow in doubling steps, but never past the limit: the bound
            // is on memory, not only on entries.
            let target = (self.queue.capacity() * 2).max(16).min(self.limit);
            self.queue.reserve_exact(target - self.queue.len());
        }
        self.make_index_room();
        let position = self.head.wrapping_add(self.queue.len() as u32);
        self.queue.push_back(slot);
        self.index.insert(slot.key[0], position);
        self.live += 1;
    }

    fn evict_oldest(&mut self) {
        while let Some(front) = self.queue.front() {
            let live = front.state != VACANT;
            self.pop_front();
            if live {
                return;
            }
        }
    }

    /// Close the gaps released entries left. Runs when at least a fifth of
    /// the queue is vacant, so its cost is a few moves per release.
    fn compact(&mut self) {
        self.queue.retain(|slot| slot.state != VACANT);
        self.reindex();
    }

    /// The index of exactly the live entries, with room for as many more
    /// (and for the one about to be pushed).
    fn reindex(&mut self) {
        let Shard {
            index, queue, head, ..
        } = self;
        *index = Index::for_entries(self.live.saturating_add(1).saturating_mul(2));
        for (offset, slot) in queue.iter().enumerate() {
            if slot.state != VACANT {
                index.insert(slot.key[0], head.wrapping_add(offset as u32));
            }
        }
    }

    fn allocated_bytes(&self) -> usize {
        self.queue.capacity() * std::mem::size_of::<Slot>() + self.index.allocation_size()
    }
}

/// Entries per index bucket: ten 16-bit tags and ten 32-bit positions fill
/// one 64-byte cache line, so a lookup, and the insert that follows it,
/// touch one line of the index (a `hashbrown` table keeps its control bytes
/// and its values apart: two lines, two cache misses in a large store).
const LANES: usize = 10;

/// A lane never used since the index was built: a lookup stops there.
const EMPTY: u16 = 0;
/// A lane whose entry was removed: lookups go on past it, inserts reuse it.
const REMOVED: u16 = 1;

#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Bucket {
    tags: [u16; LANES],
    positions: [u32; LANES],
}

const EMPTY_BUCKET: Bucket = Bucket {
    tags: [EMPTY; LANES],
    positions: [0; LANES],
};

/// Queue positions by fingerprint: open addressing over cache-line buckets,
/// probed bucket after bucket from the one the fingerprint's low bits pick;
/// each entry keeps 16 more bits of the fingerprint as its tag, so a
/// lookup reads a queue entry only when the tag matches (one time in 65,534
/// for another key). Entries are never moved; a removed one leaves
/// [`REMOVED`] until the next rebuild, so every entry sits before the first
/// [`EMPTY`] lane of its probe sequence, where a lookup stops.
#[derive(Default)]
struct Index {
    buckets: Vec<Bucket>,
    /// Lanes not [`EMPTY`]: live, stale and removed entries.
    used: usize,
}

impl Index {
    /// An empty index with room for `entries` (at least one bucket).
    fn for_entries(entries: usize) -> Self {
        Self {
            buckets: vec![EMPTY_BUCKET; entries.div_ceil(LANES).max(1)],
            used: 0,
        }
    }

    /// Whether one more entry would take it past seven eighths full (past
    /// which probes grow long; an empty lane must always remain).
    fn is_full(&self) -> bool {
        (self.used + 1) * 8 > self.buckets.len() * LANES * 7
    }

    fn tag(hash: u64) -> u16 {
        ((hash >> 48) as u16).max(REMOVED + 1)
    }

    fn home(&self, hash: u64) -> usize {
        // Any bucket count, not only powers of two: the high bits of the
        // product of the low 32 bits and the count.
        ((u64::from(hash as u32) * self.buckets.len() as u64) >> 32) as usize
    }

    fn next(&self, bucket: usize) -> usize {
        if bucket + 1 == self.buckets.len() {
            0
        } else {
            bucket + 1
        }
    }

    /// The lane (bucket, lane) and position of the first entry tagged like
    /// `hash` whose position satisfies `is`.
    fn find(&self, hash: u64, mut is: impl FnMut(u32) -> bool) -> Option<((usize, usize), u32)> {
        if self.buckets.is_empty() {
            return None;
        }
        let tag = Self::tag(hash);
        let mut at = self.home(hash);
        for _ in 0..self.buckets.len() {
            let bucket = &self.buckets[at];
            for lane in 0..LANES {
                match bucket.tags[lane] {
                    EMPTY => return None,
                    found if found == tag && is(bucket.positions[lane]) => {
                        return Some(((at, lane), bucket.positions[lane]))
                    }
                    _ => {}
                }
            }
            at = self.next(at);
        }
        None
    }

    fn remove(&mut self, (bucket, lane): (usize, usize)) {
        self.buckets[bucket].tags[lane] = REMOVED;
    }

    /// Add an entry. The caller has made room ([`is_full`](Self::is_full)
    /// was false), so an [`EMPTY`] lane remains and the probe ends.
    fn insert(&mut self, hash: u64, position: u32) {
        debug_assert!(!self.is_full(), "index insert without room");
        let tag = Self::tag(hash);
        let mut at = self.home(hash);
        loop {
            let bucket = &mut self.buckets[at];
            for lane in 0..LANES {
                if bucket.tags[lane] <= REMOVED {
                    if bucket.tags[lane] == EMPTY {
                        self.used += 1;
                    }
                    bucket.tags[lane] = tag;
                    bucket.positions[lane] = position;
                    return;
                }
            }
            at = self.next(at);
        }
    }

    fn allocation_size(&self) -> usize {
        self.buckets.capacity() * std::mem::size_of::<Bucket>()
    }
}

fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    // Nothing inside the lock panics, but a poisoned shard is still
    // consistent: every change is a single assignment or table operation.
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// Tokens leave the store as 16 hex digits and must come back that way.
fn encode_token(token: u64) -> Token {
    let mut text = [b'0'; 16];
    // 8 bytes always fit 16 digits; the digits are ASCII.
    let _ = hex::encode_to_slice(token.to_be_bytes(), &mut text);
    Token::new(std::str::from_utf8(&text).unwrap_or_default())
}

fn decode_token(token: &Token) -> Option<u64> {
    let text = token.as_str();
    if text.len() != 16 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    u64::from_str_radix(text, 16).ok()
}

/// The hash key: from the OS, or if that fails, from the standard
/// library's per-process random hasher state (itself seeded by the OS).
fn random_keys() -> (u64, u64) {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_ok() {
        let (a, b) = bytes.split_at(8);
        return (
            u64::from_le_bytes(a.try_into().unwrap_or_default()),
            u64::from_le_bytes(b.try_into().unwrap_or_default()),
        );
    }
    let state = std::collections::hash_map::RandomState::new();
    (state.hash_one(0u8), state.hash_one(1u8))
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("entry_count", &self.entry_count())
            .field("capacity", &self.inner.capacity)
            .field("shards", &self.inner.shards.len())
            .finish()
    }
}

impl IdempotencyStore for MemoryStore {
    fn reserve<'a>(&'a self, key: &'a str, lock_ttl: Duration) -> StoreFuture<'a, Reservation> {
        let reservation = self.reserve_at(key, lock_ttl, self.now());
        Box::pin(std::future::ready(Ok(reservation)))
    }

    fn complete<'a>(
        &'a self,
        key: &'a str,
        token: &'a Token,
        outcome: StoredOutcome,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        let done = self.complete_at(key, token, outcome, ttl, self.now());
        Box::pin(std::future::ready(Ok(done)))
    }

    fn release<'a>(&'a self, key: &'a str, token: &'a Token) -> StoreFuture<'a, bool> {
        let done = self.release_at(key, token, self.now());
        Box::pin(std::future::ready(Ok(done)))
    }

    fn renew<'a>(
        &'a self,
        key: &'a str,
        token: &'a Token,
        lock_ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        let done = self.renew_at(key, token, lock_ttl, self.now());
        Box::pin(std::future::ready(Ok(done)))
    }

    fn take_over<'a>(
        &'a self,
        key: &'a str,
        holder: &'a Holder,
        lock_ttl: Duration,
    ) -> StoreFuture<'a, Reservation> {
        let reservation = self.take_over_at(key, holder, lock_ttl, self.now());
        Box::pin(std::future::ready(Ok(reservation)))
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    use proptest::prelude::*;

    use super::*;

    const LOCK: Duration = Duration::from_secs(60);
    const TTL: Duration = Duration::from_secs(3600);
    const OK: StatusCode = StatusCode::OK;

    /// Polls once: the store's futures must be ready at once.
    fn now_or_never<F: Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        match future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(output) => output,
            Poll::Pending => panic!("the memory store's futures are ready when first polled"),
        }
    }

    fn acquire(store: &MemoryStore, key: &str, at: u64) -> Token {
        match store.reserve_at(key, LOCK, at) {
            Reservation::Acquired(token) => token,
            other => panic!("{key}: expected to acquire, found {other:?}"),
        }
    }

    fn outcome(status: StatusCode) -> StoredOutcome {
        StoredOutcome::new(status)
    }

    #[test]
    fn three_states_are_distinct_through_the_trait() {
        let store = MemoryStore::new();
        let Reservation::Acquired(token) = now_or_never(store.reserve("k", LOCK)).unwrap() else {
            panic!("first reservation must acquire");
        };
        assert!(matches!(
            now_or_never(store.reserve("k", LOCK)).unwrap(),
            Reservation::InFlight(_)
        ));
        assert!(now_or_never(store.renew("k", &token, LOCK)).unwrap());
        let created = outcome(StatusCode::CREATED);
        assert!(now_or_never(store.complete("k", &token, created, TTL)).unwrap());
        assert_eq!(
            now_or_never(store.reserve("k", LOCK)).unwrap(),
            Reservation::Completed(created)
        );
        // Completed: nothing left to renew or release.
        assert!(!now_or_never(store.renew("k", &token, LOCK)).unwrap());
        assert!(!now_or_never(store.release("k", &token)).unwrap());
        assert_eq!(store.entry_count(), 1);
    }

    #[test]
    fn release_frees_the_key_and_foreign_tokens_change_nothing() {
        let store = MemoryStore::new();
        let token = acquire(&store, "k", 0);
        let strangers = [
            Token::new("stranger"),
            Token::new(""),
            // Our own format, but not ours, and near misses of it.
            Token::new(format!("{:016x}", u64::MAX >> 1)),
            Token::new("000000000000000A"),
            Token::new("+000000000000001"),
            Token::new(format!("{}0", token.as_str())),
            Token::new(format!(" {}", token.as_str())),
        ];
        for stranger in &strangers {
            assert!(!store.complete_at("k", stranger, outcome(OK), TTL, 1));
            assert!(!store.renew_at("k", stranger, LOCK, 1));
            assert!(!store.release_at("k", stranger, 1));
        }
        assert!(matches!(
            store.reserve_at("k", LOCK, 1),
            Reservation::InFlight(_)
        ));
        // Someone else's key with our token: not ours either.
        acquire(&store, "other", 1);
        assert!(!store.release_at("other", &token, 1));

        assert!(store.release_at("k", &token, 2));
        // Released twice: the second finds nothing of ours.
        assert!(!store.release_at("k", &token, 2));
        let again = acquire(&store, "k", 3);
        assert_ne!(again, token);
        assert!(!store.complete_at("k", &token, outcome(OK), TTL, 3));
    }

    fn holder(store: &MemoryStore, key: &str, at: u64) -> Holder {
        match store.reserve_at(key, LOCK, at) {
            Reservation::InFlight(holder) => holder,
            other => panic!("{key}: expected in flight, found {other:?}"),
        }
    }

    #[test]
    fn a_started_key_outlives_its_lock_ttl_on_the_store_s_clock() {
        let store = MemoryStore::new();
        let second = Duration::from_secs(1);
        let Reservation::Acquired(token) = store.reserve_at("k", second, 0) else {
            panic!("first reservation must acquire");
        };
        // Long past the lock TTL, nobody renewing (a stalled store looks
        // like this to its holder): still held, and the holder's.
        let late = nanos(second) * 100;
        assert!(matches!(
            store.reserve_at("k", LOCK, late),
            Reservation::InFlight(_)
        ));
        assert!(store.renew_at("k", &token, second, late));
        assert!(store.complete_at("k", &token, outcome(OK), TTL, late + 1));
        // Only the retention collects a key nobody settles.
        let _ = acquire(&store, "gone", 0);
        let retention = nanos(reservation_retention(LOCK));
        assert!(matches!(
            store.reserve_at("gone", LOCK, retention - 1),
            Reservation::InFlight(_)
        ));
        acquire(&store, "gone", retention);
    }

    #[test]
    fn a_takeover_needs_the_holder_as_it_was_seen() {
        let store = MemoryStore::new();
        let first = acquire(&store, "k", 0);
        let seen = holder(&store, "k", 1);
        assert_eq!(seen.token(), &first);
        // A renewal changes the holder: the sighting no longer takes over.
        assert!(store.renew_at("k", &first, LOCK, 2));
        let renewed = holder(&store, "k", 3);
        assert_ne!(renewed, seen);
        assert!(matches!(
            store.take_over_at("k", &seen, LOCK, 4),
            Reservation::InFlight(ref now) if *now == renewed
        ));
        // Forged holders take nothing either.
        for forged in [
            Holder::new(Token::new("stranger"), renewed.progress()),
            Holder::new(encode_token(COMPLETED | 200), renewed.progress()),
        ] {
            assert!(matches!(
                store.take_over_at("k", &forged, LOCK, 4),
                Reservation::InFlight(_)
            ));
        }
        // The holder as it stands: taken over, and the first holder fenced.
        let Reservation::Acquired(next) = store.take_over_at("k", &renewed, LOCK, 5) else {
            panic!("the holder seen must be replaced");
        };
        assert_ne!(next, first);
        assert!(!store.renew_at("k", &first, LOCK, 6));
        assert!(!store.complete_at("k", &first, outcome(OK), TTL, 6));
        assert!(!store.release_at("k", &first, 6));
        assert!(store.complete_at("k", &next, outcome(OK), TTL, 7));
        assert_eq!(store.entry_count(), 1);
        // Completed: a takeover only reports it, and an absent key is
        // simply reserved.
        assert_eq!(
            store.take_over_at("k", &renewed, LOCK, 8),
            Reservation::Completed(outcome(OK))
        );
        assert!(matches!(
            store.take_over_at("absent", &renewed, LOCK, 8),
            Reservation::Acquired(_)
        ));
    }

    #[test]
    fn every_renewal_changes_the_holder() {
        let store = MemoryStore::new();
        let token = acquire(&store, "k", 0);
        let mut seen = holder(&store, "k", 0);
        // Even two renewals at the same instant.
        for at in [1, 1, 2] {
            assert!(store.renew_at("k", &token, LOCK, at));
            let now = holder(&store, "k", at);
            assert!(now.progress() > seen.progress());
            seen = now;
        }
        assert!(store.complete_at("k", &token, outcome(OK), TTL, 3));
    }

    #[test]
    fn completed_keys_expire_after_their_ttl() {
        let store = MemoryStore::new();
        let token = acquire(&store, "k", 0);
        assert!(store.complete_at("k", &token, outcome(OK), TTL, 10));
        let ttl = nanos(TTL);
        assert_eq!(
            store.reserve_at("k", LOCK, 10 + ttl - 1),
            Reservation::Completed(outcome(OK))
        );
        acquire(&store, "k", 10 + ttl);
    }

    #[test]
    fn a_full_store_evicts_the_oldest_reservation() {
        // Few keys: one shard, so "oldest" is exact.
        let store = MemoryStore::with_capacity(4);
        assert_eq!(store.inner.shards.len(), 1);
        for (at, key) in ["a", "b", "c", "d"].into_iter().enumerate() {
            let token = acquire(&store, key, at as u64);
            assert!(store.complete_at(key, &token, outcome(OK), TTL, at as u64));
        }
        // Completing late does not make "a" younger: order is reservation order.
        acquire(&store, "e", 10);
        assert_eq!(store.entry_count(), 4);
        for key in ["b", "c", "d"] {
            assert_eq!(
                store.reserve_at(key, LOCK, 11),
                Reservation::Completed(outcome(OK)),
                "{key}"
            );
        }
        assert!(matches!(
            store.reserve_at("e", LOCK, 11),
            Reservation::InFlight(_)
        ));
        // "a" was evicted; reserving it again evicts "b".
        acquire(&store, "a", 12);
        acquire(&store, "b", 13);
        assert_eq!(store.entry_count(), 4);
    }

    #[test]
    fn a_flood_stays_within_the_bound_and_keeps_the_newest_keys() {
        const CAPACITY: u64 = 10_000;
        let store = MemoryStore::with_capacity(CAPACITY);
        assert!(store.inner.shards.len() > 1);
        assert_eq!(store.capacity(), CAPACITY);
        let keys = 100_000;
        for n in 0..keys {
            let key = format!("flood-{n}");
            let token = acquire(&store, &key, n);
            assert!(store.complete_at(&key, &token, outcome(OK), TTL, n));
        }
        assert_eq!(store.entry_count(), CAPACITY);
        // Eviction is per shard, but the last thousand keys fill no shard.
        for n in keys - 1000..keys {
            assert_eq!(
                store.reserve_at(&format!("flood-{n}"), LOCK, keys),
                Reservation::Completed(outcome(OK))
            );
        }
        // The first key is long gone.
        acquire(&store, "flood-0", keys);
        assert!(store.entry_count() <= CAPACITY);
    }

    #[test]
    fn expired_entries_leave_from_the_front_in_insertion_order() {
        let store = MemoryStore::with_capacity(16);
        let short = Duration::from_nanos(100);
        // a (short), b (long), c (short): c lapses but waits behind b.
        for (at, key, ttl) in [(0, "a", short), (1, "b", TTL), (2, "c", short)] {
            let token = acquire(&store, key, at);
            assert!(store.complete_at(key, &token, outcome(OK), ttl, at));
        }
        assert_eq!(store.entry_count(), 3);
        // Any reservation in the shard reclaims the lapsed front.
        acquire(&store, "d", 1_000);
        assert_eq!(
            store.entry_count(),
            3,
            "a reclaimed, c still queued behind b"
        );
        // c already counts as absent.
        acquire(&store, "c", 1_001);
        assert_eq!(store.entry_count(), 3);
    }

    #[test]
    fn released_keys_do_not_crowd_out_remembered_ones() {
        let store = MemoryStore::with_capacity(8);
        let token = acquire(&store, "kept", 0);
        assert!(store.complete_at("kept", &token, outcome(OK), TTL, 0));
        // A handler that keeps failing: every reservation is released after
        // the next one queued behind it, so each leaves a gap in the queue.
        let mut previous = None;
        for n in 1..1_000u64 {
            let key = format!("failing-{n}");
            let token = acquire(&store, &key, n);
            if let Some((key, token)) = previous.replace((key, token)) {
                assert!(store.release_at(&key, &token, n));
            }
            let shard = lock(&store.inner.shards[0]);
            assert!(shard.queue.len() <= shard.limit);
            assert_eq!(shard.live, 2);
        }
        // Two keys held all along, far below the capacity: nothing evicted.
        assert_eq!(
            store.reserve_at("kept", LOCK, 1_000),
            Reservation::Completed(outcome(OK))
        );
    }

    #[test]
    fn concurrent_reservations_acquire_once() {
        let store = MemoryStore::new();
        let acquired = std::thread::scope(|scope| {
            let threads: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        (0..100)
                            .filter(|_| {
                                matches!(
                                    now_or_never(store.reserve("same", LOCK)).unwrap(),
                                    Reservation::Acquired(_)
                                )
                            })
                            .count()
                    })
                })
                .collect();
            threads
                .into_iter()
                .map(|thread| thread.join().unwrap())
                .sum::<usize>()
        });
        assert_eq!(acquired, 1);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The index alone against a list: hashes from a tiny set, so tags
        /// and home buckets collide all the time, and removals leave
        /// `REMOVED` lanes in every probe sequence.
        #[test]
        fn the_index_finds_exactly_what_was_inserted_and_not_removed(
            ops in prop::collection::vec((any::<bool>(), 0u64..24), 1..400),
            buckets in 1usize..5,
        ) {
            let mut index = Index::for_entries(buckets * LANES);
            let mut model: Vec<(u64, u32)> = Vec::new();
            for (n, (insert, pick)) in ops.into_iter().enumerate() {
                // Few distinct tags (bits 48..) and homes (the low bits).
                let hash = ((pick % 3) << 48) | (pick * 0x9E37_79B9);
                if insert && !index.is_full() {
                    index.insert(hash, n as u32);
                    model.push((hash, n as u32));
                } else if let Some(at) = model.iter().position(|e| e.0 == hash) {
                    let (_, position) = model.remove(at);
                    let found = index.find(hash, |p| p == position);
                    prop_assert_eq!(found.map(|f| f.1), Some(position));
                    index.remove(found.unwrap().0);
                }
                for &(hash, position) in &model {
                    prop_assert_eq!(index.find(hash, |p| p == position).map(|f| f.1), Some(position));
                }
                for pick in 0u64..24 {
                    let hash = ((pick % 3) << 48) | (pick * 0x9E37_79B9);
                    let expected = model.iter().filter(|e| e.0 == hash).count();
                    let mut seen = 0;
                    let _ = index.find(hash, |p| {
                        seen += usize::from(model.contains(&(hash, p)));
                        false
                    });
                    prop_assert_eq!(seen, expected);
                }
            }
        }
    }

    #[test]
    fn each_store_hashes_with_its_own_key() {
        let (one, two) = (MemoryStore::new(), MemoryStore::new());
        assert_ne!(one.fingerprint("k"), two.fingerprint("k"));
        assert_eq!(one.fingerprint("k"), one.clone().fingerprint("k"));
        assert_ne!(one.fingerprint("k"), one.fingerprint("k "));
    }

    #[test]
    fn a_full_store_costs_well_under_100_bytes_per_key() {
        // Queue and index at their bound, after twice the capacity went by.
        // (A rebuild that let the index double would cost about 80.)
        const CAPACITY: u64 = 200_000;
        let store = MemoryStore::with_capacity(CAPACITY);
        assert_eq!(std::mem::size_of::<Slot>(), 32);
        for n in 0..CAPACITY * 2 {
            let key = format!("t-|s5:/hook|k:evt_{n:016x}");
            let token = acquire(&store, &key, n);
            assert!(store.complete_at(&key, &token, outcome(OK), TTL, n));
        }
        let per_key = store.allocated_bytes() as f64 / CAPACITY as f64;
        assert!(per_key <= 60.0, "{per_key:.1} bytes per key");
    }

    #[test]
    fn tiny_and_huge_capacities_are_clamped_not_refused() {
        let store = MemoryStore::with_capacity(0);
        assert_eq!(store.capacity(), 1);
        acquire(&store, "a", 0);
        acquire(&store, "b", 0);
        assert_eq!(store.entry_count(), 1);
        let huge = MemoryStore::with_capacity(u64::MAX);
        assert_eq!(huge.capacity(), MAX_SHARDS * MAX_SHARD_CAPACITY);
        acquire(&huge, "a", 0);
    }

    /// One operation of a model test; keys and tokens are indexes.
    #[derive(Debug, Clone)]
    enum Op {
        Reserve {
            key: usize,
            lock: u64,
        },
        Complete {
            key: usize,
            token: usize,
            status: u16,
            ttl: u64,
        },
        Release {
            key: usize,
            token: usize,
        },
        Renew {
            key: usize,
            token: usize,
            lock: u64,
        },
        /// Take over from the holder as the model has it, or (`stale`) as it
        /// was before its last renewal.
        TakeOver {
            key: usize,
            token: usize,
            stale: bool,
            lock: u64,
        },
        Wait(u64),
    }

    fn ops(keys: usize) -> impl Strategy<Value = Vec<Op>> {
        let op = prop_oneof![
            4 => (0..keys, 1..50u64).prop_map(|(key, lock)| Op::Reserve { key, lock }),
            3 => (0..keys, 0..40usize, prop::sample::select(vec![200u16, 201, 404, 422]), 1..200u64)
                .prop_map(|(key, token, status, ttl)| Op::Complete { key, token, status, ttl }),
            2 => (0..keys, 0..40usize).prop_map(|(key, token)| Op::Release { key, token }),
            1 => (0..keys, 0..40usize, 1..50u64)
                .prop_map(|(key, token, lock)| Op::Renew { key, token, lock }),
            1 => (0..keys, 0..40usize, any::<bool>(), 1..50u64)
                .prop_map(|(key, token, stale, lock)| Op::TakeOver { key, token, stale, lock }),
            2 => (0..30u64).prop_map(Op::Wait),
        ];
        prop::collection::vec(op, 1..300)
    }

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Held {
        Started(usize),
        Completed(u16),
    }

    /// The semantics, spelled out: a list in reservation order.
    struct Model {
        entries: Vec<(usize, Held, u64)>,
        capacity: usize,
    }

    impl Model {
        fn find(&self, key: usize) -> Option<usize> {
            self.entries.iter().position(|entry| entry.0 == key)
        }

        fn reserve(
            &mut self,
            key: usize,
            deadline: u64,
            token: usize,
            now: u64,
            replacing: Option<(usize, u64)>,
        ) -> Result<(), Held> {
            while self.entries.first().is_some_and(|entry| entry.2 <= now) {
                self.entries.remove(0);
            }
            if let Some(at) = self.find(key) {
                let (_, held, until) = self.entries[at];
                let replaced = replacing.is_some_and(|(token, progress)| {
                    held == Held::Started(token) && until == progress
                });
                if until > now && !replaced {
                    return Err(held);
                }
                self.entries.remove(at);
            }
            if self.entries.len() == self.capacity {
                self.entries.remove(0);
            }
            self.entries.push((key, Held::Started(token), deadline));
            Ok(())
        }

        fn held(&mut self, key: usize, token: usize, now: u64) -> Option<usize> {
            self.find(key).filter(|&at| {
                self.entries[at].1 == Held::Started(token) && self.entries[at].2 > now
            })
        }
    }

    /// Runs `ops` on the store and the model; with `exact`, also compares
    /// the entry count (only meaningful with one shard).
    fn check(
        store: &MemoryStore,
        model: &mut Model,
        ops: Vec<Op>,
        exact: bool,
    ) -> Result<(), TestCaseError> {
        let key = |n: usize| format!("t-|s5:/hook|k:{n}");
        // Every token the store handed out, by the model's index; index
        // beyond the list means a token the store never issued.
        let mut tokens: Vec<Token> = Vec::new();
        let token = |tokens: &Vec<Token>, n: usize| {
            tokens
                .get(n)
                .cloned()
                .unwrap_or_else(|| Token::new(format!("{:016x}", 1u64 << 40)))
        };
        let mut now = 0u64;
        let retention = |lock: u64| nanos(reservation_retention(Duration::from_nanos(lock)));
        for op in ops {
            now += 1;
            match op {
                Op::Reserve { key: k, lock } => {
                    let got = store.reserve_at(&key(k), Duration::from_nanos(lock), now);
                    let want = model.reserve(k, now + retention(lock), tokens.len(), now, None);
                    match (got, want) {
                        (Reservation::Acquired(t), Ok(())) => tokens.push(t),
                        (Reservation::InFlight(_), Err(Held::Started(_))) => {}
                        (Reservation::Completed(o), Err(Held::Completed(s))) => {
                            prop_assert_eq!(o.status().as_u16(), s)
                        }
                        (got, want) => {
                            prop_assert!(false, "reserve {}: store {:?}, model {:?}", k, got, want)
                        }
                    }
                }
                Op::Complete {
                    key: k,
                    token: t,
                    status,
                    ttl,
                } => {
                    let status = StatusCode::from_u16(status).unwrap();
                    let got = store.complete_at(
                        &key(k),
                        &token(&tokens, t),
                        outcome(status),
                        Duration::from_nanos(ttl),
                        now,
                    );
                    let want = model.held(k, t, now).map(|at| {
                        model.entries[at].1 = Held::Completed(status.as_u16());
                        model.entries[at].2 = now + ttl;
                    });
                    prop_assert_eq!(got, want.is_some(), "complete {} with token {}", k, t);
                }
                Op::Release { key: k, token: t } => {
                    let got = store.release_at(&key(k), &token(&tokens, t), now);
                    let want = model.held(k, t, now).map(|at| model.entries.remove(at));
                    prop_assert_eq!(got, want.is_some(), "release {} with token {}", k, t);
                }
                Op::Renew {
                    key: k,
                    token: t,
                    lock,
                } => {
                    let got = store.renew_at(
                        &key(k),
                        &token(&tokens, t),
                        Duration::from_nanos(lock),
                        now,
                    );
                    let want = model.held(k, t, now).map(|at| {
                        let until = &mut model.entries[at].2;
                        *until = (now + retention(lock)).max(*until + 1);
                    });
                    prop_assert_eq!(got, want.is_some(), "renew {} with token {}", k, t);
                }
                Op::TakeOver {
                    key: k,
                    token: t,
                    stale,
                    lock,
                } => {
                    let seen = model.find(k).map_or(0, |at| model.entries[at].2);
                    let progress = seen - u64::from(stale && seen > 0);
                    let holder = Holder::new(token(&tokens, t), progress);
                    let got = store.take_over_at(&key(k), &holder, Duration::from_nanos(lock), now);
                    let want = model.reserve(
                        k,
                        now + retention(lock),
                        tokens.len(),
                        now,
                        Some((t, progress)),
                    );
                    match (got, want) {
                        (Reservation::Acquired(t), Ok(())) => tokens.push(t),
                        (Reservation::InFlight(_), Err(Held::Started(_))) => {}
                        (Reservation::Completed(o), Err(Held::Completed(s))) => {
                            prop_assert_eq!(o.status().as_u16(), s)
                        }
                        (got, want) => {
                            prop_assert!(
                                false,
                                "take over {}: store {:?}, model {:?}",
                                k,
                                got,
                                want
                            )
                        }
                    }
                }
                Op::Wait(ticks) => now += ticks,
            }
            if exact {
                prop_assert_eq!(store.entry_count(), model.entries.len() as u64);
            }
            prop_assert!(store.entry_count() <= store.capacity());
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// One shard, tiny capacities: eviction, compaction and expiry all
        /// happen, and the store matches the model step for step.
        #[test]
        fn one_shard_matches_the_model(capacity in 1usize..8, ops in ops(12)) {
            let store = MemoryStore::with_capacity(capacity as u64);
            prop_assert_eq!(store.inner.shards.len(), 1);
            let mut model = Model { entries: Vec::new(), capacity };
            check(&store, &mut model, ops, true)?;
        }

        /// Many shards, no eviction: the same answers.
        #[test]
        fn many_shards_match_the_model(ops in ops(40)) {
            let store = MemoryStore::with_capacity(100_000);
            prop_assert!(store.inner.shards.len() > 1);
            let mut model = Model { entries: Vec::new(), capacity: usize::MAX };
            check(&store, &mut model, ops, false)?;
        }
    }
}
