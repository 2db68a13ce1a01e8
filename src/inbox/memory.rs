//! The in-process inbox: for tests, demos and receivers that may lose what
//! they hold when the process ends.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{
    new_token, unix_millis, Claim, Claimed, DeadLetter, Delivery, Enqueued, Held, Inbox,
    InboxError, InboxFuture, InboxStats, DEFAULT_CAPACITY, DEFAULT_RETAIN,
};

/// An inbox in this process's memory. Nothing survives the process: use
/// `SqliteInbox` or `RedisInbox` where a `2xx` must mean "kept".
#[derive(Debug, Clone)]
pub struct MemoryInbox {
    state: Arc<Mutex<State>>,
    capacity: u64,
    retain: Duration,
}

#[derive(Debug, Default)]
struct State {
    next_seq: u64,
    /// Waiting, held and dead entries by sequence number (arrival order).
    entries: BTreeMap<u64, Entry>,
    /// Every key the inbox knows, to its entry, or to `None` once
    /// completed (with when it may be forgotten).
    keys: HashMap<Arc<str>, (Option<u64>, Option<Instant>)>,
    pending: u64,
}

#[derive(Debug)]
struct Entry {
    delivery: Delivery,
    attempts: u32,
    due_ms: i64,
    hold: Option<(u64, u64)>,
    dead: bool,
    last_error: String,
}

impl Default for MemoryInbox {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryInbox {
    /// An empty inbox of 100,000 entries that remembers
    /// completed keys for 24 hours.
    pub fn new() -> Self {
        Self {
            state: Arc::default(),
            capacity: DEFAULT_CAPACITY,
            retain: DEFAULT_RETAIN,
        }
    }

    /// At most `capacity` entries waiting or in flight; more are refused
    /// ("full", `503`).
    pub fn with_capacity(mut self, capacity: u64) -> Self {
        self.capacity = capacity;
        self
    }

    /// Remember completed keys for `retain`.
    pub fn with_retain(mut self, retain: Duration) -> Self {
        self.retain = retain;
        self
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Plain data, each change made whole under the lock.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn now<T: Send + 'static>(value: T) -> InboxFuture<'static, T> {
        Box::pin(std::future::ready(Ok(value)))
    }

    fn with_hold<T: Send + 'static>(
        &self,
        claim: &Claim,
        f: impl FnOnce(&mut State, u64) -> T,
        otherwise: T,
    ) -> InboxFuture<'static, T> {
        let mut state = self.lock();
        let Ok(seq) = claim.id.parse::<u64>() else {
            return Self::now(otherwise);
        };
        let holds = state
            .entries
            .get(&seq)
            .is_some_and(|e| !e.dead && e.hold.is_some_and(|(token, _)| token == claim.token));
        Self::now(if holds { f(&mut state, seq) } else { otherwise })
    }
}

impl State {
    fn take(&mut self, seq: u64, token: u64) -> Option<Claimed> {
        let entry = self.entries.get_mut(&seq)?;
        entry.attempts += 1;
        entry.hold = Some((token, 0));
        let mut delivery = entry.delivery.clone();
        delivery.attempt = entry.attempts;
        Some(Claimed {
            claim: Claim {
                id: seq.to_string(),
                token,
            },
            delivery,
        })
    }
}

impl Inbox for MemoryInbox {
    fn enqueue<'a>(&'a self, delivery: &'a Delivery) -> InboxFuture<'a, Enqueued> {
        let mut state = self.lock();
        let now = Instant::now();
        if let Some((_, forget_at)) = state.keys.get(&delivery.key) {
            if forget_at.is_none_or(|at| at > now) {
                return Self::now(Enqueued::Duplicate);
            }
        }
        if state.pending >= self.capacity {
            return Box::pin(std::future::ready(Err(InboxError::Full)));
        }
        if state.keys.len() as u64 > self.capacity.saturating_mul(4) {
            state
                .keys
                .retain(|_, (seq, forget_at)| seq.is_some() || forget_at.is_none_or(|at| at > now));
        }
        let seq = state.next_seq;
        state.next_seq += 1;
        state.entries.insert(
            seq,
            Entry {
                delivery: delivery.clone(),
                attempts: 0,
                due_ms: 0,
                hold: None,
                dead: false,
                last_error: String::new(),
            },
        );
        state.keys.insert(delivery.key.clone(), (Some(seq), None));
        state.pending += 1;
        Self::now(Enqueued::Added)
    }

    fn claim<'a>(&'a self, _worker: &'a str) -> InboxFuture<'a, Option<Claimed>> {
        let mut state = self.lock();
        let now = unix_millis();
        let seq = state
            .entries
            .iter()
            .find(|(_, e)| !e.dead && e.hold.is_none() && e.due_ms <= now)
            .map(|(&seq, _)| seq);
        Self::now(seq.and_then(|seq| state.take(seq, new_token())))
    }

    fn heartbeat<'a>(&'a self, claim: &'a Claim) -> InboxFuture<'a, bool> {
        self.with_hold(
            claim,
            |state, seq| {
                if let Some(entry) = state.entries.get_mut(&seq) {
                    entry.hold = entry.hold.map(|(token, beat)| (token, beat + 1));
                }
                true
            },
            false,
        )
    }

    fn held(&self) -> InboxFuture<'_, Vec<Held>> {
        let state = self.lock();
        Self::now(
            state
                .entries
                .iter()
                .filter(|(_, e)| !e.dead)
                .filter_map(|(seq, e)| {
                    e.hold.map(|(token, beat)| Held {
                        id: seq.to_string(),
                        token,
                        beat,
                    })
                })
                .collect(),
        )
    }

    fn take_over<'a>(
        &'a self,
        held: &'a Held,
        _worker: &'a str,
    ) -> InboxFuture<'a, Option<Claimed>> {
        let mut state = self.lock();
        let Ok(seq) = held.id.parse::<u64>() else {
            return Self::now(None);
        };
        let unchanged = state
            .entries
            .get(&seq)
            .is_some_and(|e| !e.dead && e.hold == Some((held.token, held.beat)));
        Self::now(if unchanged {
            state.take(seq, new_token())
        } else {
            None
        })
    }

    fn complete<'a>(&'a self, claim: &'a Claim) -> InboxFuture<'a, bool> {
        let forget_at = Instant::now().checked_add(self.retain);
        self.with_hold(
            claim,
            |state, seq| {
                if let Some(entry) = state.entries.remove(&seq) {
                    state.keys.insert(entry.delivery.key, (None, forget_at));
                    state.pending -= 1;
                }
                true
            },
            false,
        )
    }

    fn retry_at<'a>(
        &'a self,
        claim: &'a Claim,
        due_ms: i64,
        error: &'a str,
    ) -> InboxFuture<'a, bool> {
        self.with_hold(
            claim,
            |state, seq| {
                if let Some(entry) = state.entries.get_mut(&seq) {
                    entry.hold = None;
                    entry.due_ms = due_ms;
                    error.clone_into(&mut entry.last_error);
                }
                true
            },
            false,
        )
    }

    fn release<'a>(&'a self, claim: &'a Claim) -> InboxFuture<'a, bool> {
        self.with_hold(
            claim,
            |state, seq| {
                if let Some(entry) = state.entries.get_mut(&seq) {
                    entry.hold = None;
                    entry.attempts = entry.attempts.saturating_sub(1);
                }
                true
            },
            false,
        )
    }

    fn dead_letter<'a>(&'a self, claim: &'a Claim, error: &'a str) -> InboxFuture<'a, bool> {
        self.with_hold(
            claim,
            |state, seq| {
                if let Some(entry) = state.entries.get_mut(&seq) {
                    entry.hold = None;
                    entry.dead = true;
                    error.clone_into(&mut entry.last_error);
                    state.pending -= 1;
                }
                true
            },
            false,
        )
    }

    fn dead_letters(&self, limit: usize) -> InboxFuture<'_, Vec<DeadLetter>> {
        let state = self.lock();
        Self::now(
            state
                .entries
                .values()
                .filter(|e| e.dead)
                .take(limit)
                .map(|e| DeadLetter {
                    key: e.delivery.key.to_string(),
                    delivery_id: e.delivery.delivery_id.as_deref().map(str::to_owned),
                    provider: e.delivery.provider.as_deref().map(str::to_owned),
                    attempts: e.attempts,
                    last_error: e.last_error.clone(),
                    received_at_ms: e.delivery.received_at_ms,
                })
                .collect(),
        )
    }

    fn retry_dead<'a>(&'a self, key: Option<&'a str>) -> InboxFuture<'a, u64> {
        let mut state = self.lock();
        let mut moved = 0;
        for entry in state.entries.values_mut() {
            if entry.dead && key.is_none_or(|k| *entry.delivery.key == *k) {
                entry.dead = false;
                entry.attempts = 0;
                entry.due_ms = 0;
                moved += 1;
            }
        }
        state.pending += moved;
        Self::now(moved)
    }

    fn purge_dead<'a>(&'a self, key: Option<&'a str>) -> InboxFuture<'a, u64> {
        let forget_at = Instant::now().checked_add(self.retain);
        let mut state = self.lock();
        let doomed: Vec<u64> = state
            .entries
            .iter()
            .filter(|(_, e)| e.dead && key.is_none_or(|k| *e.delivery.key == *k))
            .map(|(&seq, _)| seq)
            .collect();
        for seq in &doomed {
            // Remembered as done: the sender's next retry must not bring
            // back what the operator gave up on.
            if let Some(entry) = state.entries.remove(seq) {
                state.keys.insert(entry.delivery.key, (None, forget_at));
            }
        }
        Self::now(doomed.len() as u64)
    }

    fn stats(&self) -> InboxFuture<'_, InboxStats> {
        let state = self.lock();
        let mut stats = InboxStats::default();
        let mut oldest: Option<i64> = None;
        for entry in state.entries.values() {
            if entry.dead {
                stats.dead += 1;
                continue;
            }
            if entry.hold.is_some() {
                stats.in_flight += 1;
            } else {
                stats.depth += 1;
            }
            let received = entry.delivery.received_at_ms;
            oldest = Some(oldest.map_or(received, |o| o.min(received)));
        }
        stats.oldest_age = oldest.map(|o| {
            Duration::from_millis(u64::try_from(unix_millis().saturating_sub(o)).unwrap_or(0))
        });
        Self::now(stats)
    }
}
