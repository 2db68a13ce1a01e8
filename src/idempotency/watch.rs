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
//! cannot justify a takeover. The rule is the inbox's as well, and lives in
//! `crate::lease_watch`; this is the layer's side of it: its clock, its
//! lock TTL, and the pings.

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::time::Instant;

use super::lease::{pause_for, RENEWALS_PER_TTL};
use super::store::{Holder, IdempotencyStore};
pub(crate) use crate::lease_watch::Verdict;
use crate::lease_watch::{LeaseWatch, Rule};

/// The renewal period for `lock_ttl`: how long the store may go without an
/// answer, or take to answer, before this replica could have missed a
/// holder's renewal.
pub(crate) fn renewal_period(lock_ttl: Duration) -> Duration {
    (lock_ttl / RENEWALS_PER_TTL).max(Duration::from_millis(1))
}

fn rule(lock_ttl: Duration) -> Rule {
    Rule {
        lease: lock_ttl,
        max_gap: renewal_period(lock_ttl),
    }
}

/// The layer's watch over the keys it found in flight, and over the store's
/// responsiveness: the shared rule, on this layer's tokio clock, with keys
/// hashed (a flood of long keys costs no more memory than short ones).
/// Shared by the clones of one layer.
pub(crate) struct Watch {
    epoch: Instant,
    shared: LeaseWatch<u64, Holder>,
    /// A ping task runs.
    pinging: AtomicBool,
    hasher: RandomState,
}

impl Default for Watch {
    fn default() -> Self {
        Self {
            epoch: Instant::now(),
            shared: LeaseWatch::default(),
            pinging: AtomicBool::new(false),
            hasher: RandomState::new(),
        }
    }
}

impl Watch {
    fn at(&self, instant: Instant) -> Duration {
        instant.saturating_duration_since(self.epoch)
    }

    /// A store call sent at `sent` ended at `ended`, answered (`ok`) or not.
    pub(crate) fn report(&self, sent: Instant, ended: Instant, ok: bool, lock_ttl: Duration) {
        self.shared
            .report(self.at(sent), self.at(ended), ok, rule(lock_ttl));
    }

    /// A store call failed at `ended` (its start unknown or irrelevant).
    pub(crate) fn failed(&self, ended: Instant) {
        self.shared.failed(self.at(ended));
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
        self.shared.sight(
            self.hasher.hash_one(key),
            holder,
            self.at(sent),
            self.at(ended),
            rule(lock_ttl),
        )
    }

    /// Whether any key is watched.
    pub(crate) fn watching(&self) -> bool {
        self.shared.watching()
    }

    /// `key` is no longer in flight (acquired, completed): stop watching it.
    pub(crate) fn forget(&self, key: &str) {
        if self.watching() {
            self.shared.forget(&self.hasher.hash_one(key));
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
                if !watch.watching() {
                    watch.pinging.store(false, Ordering::Release);
                    // A sighting recorded since will not have started
                    // another task (this one still ran): carry on for it.
                    if !watch.watching() || watch.pinging.swap(true, Ordering::AcqRel) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idempotency::Token;

    // The rule itself is tested in `crate::lease_watch`; these pin what the
    // layer gives it: its lock TTL as the lease, a third of it as the
    // longest call or silence, keys kept apart.
    const LOCK: Duration = Duration::from_secs(3);

    fn holder(progress: u64) -> Holder {
        Holder::new(Token::new("a"), progress)
    }

    /// A prompt reservation at `t` (ms after the epoch) that found `key`
    /// held by `holder`.
    fn sight(watch: &Watch, t: u64, key: &str, holder: &Holder) -> bool {
        let at = watch.epoch + Duration::from_millis(t);
        watch.report(at, at, true, LOCK);
        matches!(
            watch.sighted(key, holder, at, at, LOCK),
            Verdict::PresumedDead
        )
    }

    fn pings(watch: &Watch, from: u64, to: u64) {
        for t in (from..to).step_by(500) {
            let at = watch.epoch + Duration::from_millis(t);
            watch.report(at, at, true, LOCK);
        }
    }

    #[test]
    fn unchanged_for_a_lock_ttl_with_the_store_answering_is_dead() {
        let watch = Watch::default();
        assert!(!sight(&watch, 10, "k", &holder(1)));
        pings(&watch, 500, 3000);
        assert!(!sight(&watch, 3009, "k", &holder(1)), "not yet a lock TTL");
        assert!(!sight(&watch, 3010, "other", &holder(1)), "another key");
        assert!(sight(&watch, 3010, "k", &holder(1)));
        watch.forget("k");
        watch.forget("other");
        assert!(!watch.watching());
    }

    /// A reservation answered after more than a renewal period, while the
    /// pings around it answered: the store stalled, and a holder unchanged
    /// across it proves nothing.
    #[test]
    fn a_call_slower_than_a_renewal_period_restarts_the_watch() {
        let watch = Watch::default();
        assert!(!sight(&watch, 10, "k", &holder(1)));
        pings(&watch, 500, 2000);
        let sent = watch.epoch + Duration::from_millis(900);
        watch.report(sent, sent + renewal_period(LOCK), true, LOCK);
        pings(&watch, 2000, 3000);
        assert!(
            sight(&watch, 3010, "k", &holder(1)),
            "a renewal period is prompt"
        );

        let watch = Watch::default();
        assert!(!sight(&watch, 10, "k", &holder(1)));
        pings(&watch, 500, 2000);
        let sent = watch.epoch + Duration::from_millis(900);
        let late = renewal_period(LOCK) + Duration::from_millis(1);
        watch.report(sent, sent + late, true, LOCK);
        pings(&watch, 2000, 3000);
        assert!(
            !sight(&watch, 3010, "k", &holder(1)),
            "seen before the stall"
        );
        pings(&watch, 3500, 6000);
        assert!(sight(&watch, 6010, "k", &holder(1)));
    }
}
