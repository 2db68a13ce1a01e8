//! When a reservation's holder may be presumed dead: judged by this
//! replica, on its own monotonic clock, never by the store's.
//!
//! A store's clock runs on while the store is stopped, and nobody's renewal
//! can land meanwhile; a lease that expired on that clock says nothing
//! about its holder. So a replica that finds a key in flight remembers who
//! holds it ([`Holder`]: token and progress) and since when, and takes it
//! over only once it has seen the same holder, unchanged, for a lock TTL —
//! and only if, all that time, its own calls to the store kept being
//! answered promptly. A live holder renews every third of the lock TTL; with
//! the store answering, those renewals land and change the holder.
//!
//! "Answered promptly all along" is judged from every store call the layer
//! makes (reservations, renewals, and a ping every sixth of the lock TTL
//! while some key is watched): a call that fails or takes longer than the
//! renewal period, or a gap of more than a renewal period between two
//! answers, ends the unbroken run, and a sighting made before the run began
//! cannot justify a takeover.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::time::Instant;

use super::lease::{pause_for, RENEWALS_PER_TTL};
use super::store::{Holder, IdempotencyStore};

/// At most this many keys watched per layer. When full the sightings are
/// forgotten: that only delays takeovers (the watch starts again), and
/// keeps the memory a flood of in-flight keys can take bounded.
const MAX_WATCHED: usize = 4096;

/// The renewal period for `lock_ttl`: how long the store may go without an
/// answer, or take to answer, before this replica could have missed a
/// holder's renewal.
pub(crate) fn renewal_period(lock_ttl: Duration) -> Duration {
    (lock_ttl / RENEWALS_PER_TTL).max(Duration::from_millis(1))
}

/// The layer's watch over the keys it found in flight, and over the store's
/// responsiveness. Shared by the clones of one layer.
pub(crate) struct Watch {
    epoch: Instant,
    /// Nanoseconds after `epoch` of the latest prompt answer.
    last_answer: AtomicU64,
    /// Start of the current unbroken run of prompt answers (a gap longer
    /// than a renewal period starts a new one).
    run_since: AtomicU64,
    /// The latest failed or slow store call (its end).
    last_failure: AtomicU64,
    sightings: Mutex<HashMap<u64, Sighting>>,
    /// `sightings` is not empty: checked without the lock on every
    /// completed or acquired key.
    watching: AtomicBool,
    /// A ping task runs.
    pinging: AtomicBool,
    hasher: RandomState,
}

struct Sighting {
    holder: Holder,
    /// When it was first seen (the end of the call that saw it).
    since: u64,
}

/// Why a key in flight may not be taken over yet, or that it may.
pub(crate) enum Verdict {
    /// The holder may be alive: answer `409`.
    Wait,
    /// Watched unchanged for a lock TTL with the store answering all along:
    /// presumed dead.
    PresumedDead,
}

impl Default for Watch {
    fn default() -> Self {
        Self {
            epoch: Instant::now(),
            last_answer: AtomicU64::new(0),
            run_since: AtomicU64::new(0),
            last_failure: AtomicU64::new(0),
            sightings: Mutex::new(HashMap::new()),
            watching: AtomicBool::new(false),
            pinging: AtomicBool::new(false),
            hasher: RandomState::new(),
        }
    }
}

impl Watch {
    fn at(&self, instant: Instant) -> u64 {
        nanos(instant.saturating_duration_since(self.epoch))
    }

    fn sightings(&self) -> MutexGuard<'_, HashMap<u64, Sighting>> {
        // Every change under the lock is a single map operation.
        self.sightings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// A store call sent at `sent` ended at `ended`, answered (`ok`) or not.
    pub(crate) fn report(&self, sent: Instant, ended: Instant, ok: bool, lock_ttl: Duration) {
        let period = nanos(renewal_period(lock_ttl));
        let (sent, ended) = (self.at(sent), self.at(ended));
        if !ok || ended.saturating_sub(sent) > period {
            self.last_failure.fetch_max(ended, Ordering::Relaxed);
            return;
        }
        let previous = self.last_answer.fetch_max(ended, Ordering::Relaxed);
        if ended > previous.saturating_add(period) {
            // Nothing heard for longer than a renewal period: the store may
            // have been stopped in between, unseen.
            self.run_since.fetch_max(ended, Ordering::Relaxed);
        }
    }

    /// A store call failed at `ended` (its start unknown or irrelevant).
    pub(crate) fn failed(&self, ended: Instant) {
        self.last_failure
            .fetch_max(self.at(ended), Ordering::Relaxed);
    }

    /// A reservation sent at `sent` and answered at `ended` (already
    /// [reported](Self::report)) found `key` held by `holder`.
    pub(crate) fn sighted(
        &self,
        key: &str,
        holder: &Holder,
        sent: Instant,
        ended: Instant,
        lock_ttl: Duration,
    ) -> Verdict {
        let (sent, ended) = (self.at(sent), self.at(ended));
        let id = self.hasher.hash_one(key);
        let mut sightings = self.sightings();
        if ended.saturating_sub(sent) > nanos(renewal_period(lock_ttl)) {
            // A slow answer: the store stalled just now, and what it said
            // may be older than it looks.
            sightings.remove(&id);
            return Verdict::Wait;
        }
        // The unbroken run of prompt answers this sighting belongs to.
        let run = self
            .run_since
            .load(Ordering::Relaxed)
            .max(self.last_failure.load(Ordering::Relaxed).saturating_add(1));
        if let Some(seen) = sightings.get(&id) {
            if seen.holder == *holder && seen.since >= run {
                if sent.saturating_sub(seen.since) >= nanos(lock_ttl) {
                    return Verdict::PresumedDead;
                }
                return Verdict::Wait;
            }
        }
        if sightings.len() >= MAX_WATCHED {
            sightings.clear();
        }
        sightings.insert(
            id,
            Sighting {
                holder: holder.clone(),
                since: ended,
            },
        );
        self.watching.store(true, Ordering::Relaxed);
        Verdict::Wait
    }

    /// Whether any key is watched.
    pub(crate) fn watching(&self) -> bool {
        self.watching.load(Ordering::Relaxed)
    }

    /// `key` is no longer in flight (acquired, completed): stop watching it.
    pub(crate) fn forget(&self, key: &str) {
        if !self.watching() {
            return;
        }
        let id = self.hasher.hash_one(key);
        let mut sightings = self.sightings();
        sightings.remove(&id);
        if sightings.is_empty() {
            self.watching.store(false, Ordering::Relaxed);
        }
    }

    /// Ping `store` every sixth of the lock TTL while any key is watched,
    /// so that a quiet replica still knows whether the store kept answering
    /// between two copies of a delivery (senders retry minutes apart).
    pub(crate) fn keep_pinging(
        self: &Arc<Self>,
        store: &Arc<dyn IdempotencyStore>,
        lock_ttl: Duration,
    ) {
        if self.pinging.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(runtime) = Handle::try_current() else {
            self.pinging.store(false, Ordering::Release);
            return;
        };
        let watch = Arc::downgrade(self);
        let store = Arc::clone(store);
        let every = (renewal_period(lock_ttl) / 2).max(Duration::from_millis(1));
        runtime.spawn(async move {
            loop {
                let timers = pause_for(every).await;
                // The layer is gone: nothing left to watch for.
                let Some(watch) = watch.upgrade() else { return };
                if !timers {
                    watch.pinging.store(false, Ordering::Release);
                    return;
                }
                if !watch.watching.load(Ordering::Relaxed) {
                    watch.pinging.store(false, Ordering::Release);
                    // A sighting recorded since will not have started
                    // another task (this one still ran): carry on for it.
                    if !watch.watching.load(Ordering::Relaxed)
                        || watch.pinging.swap(true, Ordering::AcqRel)
                    {
                        return;
                    }
                }
                let sent = Instant::now();
                let answered = store.ping().await;
                if let Err(error) = &answered {
                    error.count("ping");
                }
                watch.report(sent, Instant::now(), answered.is_ok(), lock_ttl);
            }
        });
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idempotency::Token;

    const LOCK: Duration = Duration::from_secs(3);

    fn holder(progress: u64) -> Holder {
        Holder::new(Token::new("a"), progress)
    }

    /// A prompt reservation at `t` (ms after the epoch) that found `key`
    /// held by `holder`.
    fn sight(watch: &Watch, t: u64, holder: &Holder) -> bool {
        let at = watch.epoch + Duration::from_millis(t);
        watch.report(at, at, true, LOCK);
        matches!(
            watch.sighted("k", holder, at, at, LOCK),
            Verdict::PresumedDead
        )
    }

    fn ping(watch: &Watch, t: u64, ok: bool) {
        let at = watch.epoch + Duration::from_millis(t);
        watch.report(at, at, ok, LOCK);
    }

    #[test]
    fn unchanged_for_a_lock_ttl_with_the_store_answering_is_dead() {
        let watch = Watch::default();
        assert!(!sight(&watch, 10, &holder(1)));
        for t in (500..3000).step_by(500) {
            ping(&watch, t, true);
        }
        assert!(!sight(&watch, 3009, &holder(1)), "not yet a lock TTL");
        assert!(sight(&watch, 3010, &holder(1)));
    }

    #[test]
    fn progress_restarts_the_watch() {
        let watch = Watch::default();
        assert!(!sight(&watch, 10, &holder(1)));
        for t in (500..3000).step_by(500) {
            ping(&watch, t, true);
        }
        assert!(!sight(&watch, 3010, &holder(2)));
        ping(&watch, 3500, true);
        assert!(!sight(&watch, 4000, &holder(2)));
    }

    #[test]
    fn a_failed_call_or_a_silence_in_between_proves_nothing() {
        // The store was stopped between the two sightings: the holder's
        // renewals could not land, so the unchanged holder says nothing.
        let failed = Watch::default();
        assert!(!sight(&failed, 10, &holder(1)));
        ping(&failed, 900, true);
        ping(&failed, 1500, false);
        for t in (2000..6000).step_by(500) {
            ping(&failed, t, true);
        }
        assert!(
            !sight(&failed, 6000, &holder(1)),
            "sighting before the failure"
        );
        // Watched again from there: a lock TTL later, with answers all along.
        for t in (6500..9000).step_by(500) {
            ping(&failed, t, true);
        }
        assert!(sight(&failed, 9001, &holder(1)));

        // No call at all for longer than a renewal period (no ping task, no
        // traffic): just as unknown.
        let silent = Watch::default();
        assert!(!sight(&silent, 10, &holder(1)));
        assert!(!sight(&silent, 5000, &holder(1)));
    }

    #[test]
    fn a_slow_answer_counts_as_a_failure() {
        let watch = Watch::default();
        assert!(!sight(&watch, 10, &holder(1)));
        let sent = watch.epoch + Duration::from_millis(500);
        watch.report(sent, sent + Duration::from_millis(1001), true, LOCK);
        for t in (2000..4000).step_by(500) {
            ping(&watch, t, true);
        }
        assert!(!sight(&watch, 4000, &holder(1)));
    }

    #[test]
    fn the_watch_is_bounded() {
        let watch = Watch::default();
        let at = watch.epoch;
        for n in 0..MAX_WATCHED * 3 {
            let _ = watch.sighted(&format!("k{n}"), &holder(1), at, at, LOCK);
            assert!(watch.sightings().len() <= MAX_WATCHED);
        }
        watch.forget("anything");
    }
}
