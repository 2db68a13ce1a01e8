//! The takeover rule: a held entry passes to another worker only when that
//! worker has itself seen no sign of progress on it for the whole lease, on
//! its own monotonic clock.
//!
//! The store's idle times are not used: while a store is stopped, the
//! holder cannot record progress and the store's clock says the holder has
//! been idle, though it is alive and working. Here, an observation is only
//! as long as the run of successful, prompt reads that make it; a read that
//! fails or takes long, or a long gap between two reads (this worker itself
//! paused), starts every observation again. The rule is the idempotency
//! layer's as well, and lives in `crate::lease_watch`; this is the worker's
//! side of it: its reads of the held entries, half a lease as the longest
//! read or gap (it reads every quarter lease).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use super::Held;
use crate::lease_watch::{LeaseWatch, Rule, Verdict};

/// One worker's observations of the entries others hold.
#[derive(Debug)]
pub(crate) struct Observer {
    rule: Rule,
    epoch: Instant,
    /// Per entry id: the hold (token) and heartbeat last seen.
    watch: LeaseWatch<String, (u64, u64)>,
}

impl Observer {
    pub(crate) fn new(lease: Duration) -> Self {
        Self {
            rule: Rule {
                lease,
                max_gap: lease / 2,
            },
            epoch: Instant::now(),
            watch: LeaseWatch::unbounded(),
        }
    }

    /// A read of the held entries that started at `started` and ended at
    /// `ended` with `result`. Returns the entries whose holder has shown no
    /// progress for the lease: those that may be taken over.
    pub(crate) fn observe<E>(
        &mut self,
        started: Instant,
        ended: Instant,
        result: Result<Vec<Held>, E>,
    ) -> Vec<Held> {
        let started = started.saturating_duration_since(self.epoch);
        let ended = ended.saturating_duration_since(self.epoch);
        self.watch.report(started, ended, result.is_ok(), self.rule);
        let Ok(held) = result else {
            return Vec::new();
        };
        let due = held
            .iter()
            .filter(|entry| {
                let progress = (entry.token, entry.beat);
                let verdict =
                    self.watch
                        .sight(entry.id.clone(), &progress, started, ended, self.rule);
                verdict == Verdict::PresumedDead
            })
            .cloned()
            .collect();
        // Released or finished entries: their ids are not watched forever.
        let read: HashSet<&str> = held.iter().map(|entry| entry.id.as_str()).collect();
        self.watch.retain(|id| read.contains(id.as_str()));
        due
    }

    /// Forget `id` (taken over, or gone).
    pub(crate) fn forget(&mut self, id: &str) {
        self.watch.forget(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The rule itself is tested in `crate::lease_watch`; these pin what the
    // worker gives it: its reads, half a lease as the longest read or gap,
    // and only the entries of the latest read watched.

    fn held(id: &str, beat: u64) -> Held {
        Held {
            id: id.into(),
            token: 7,
            beat,
        }
    }

    const LEASE: Duration = Duration::from_secs(4);
    const STEP: Duration = Duration::from_secs(1);

    /// A read at `at`, taking no time.
    fn read(observer: &mut Observer, at: Instant, result: Result<Vec<Held>, ()>) -> Vec<Held> {
        observer.observe(at, at, result)
    }

    #[test]
    fn a_silent_holder_is_due_after_the_lease_and_only_it() {
        let mut observer = Observer::new(LEASE);
        let t0 = Instant::now();
        for i in 0..4 {
            let beating = held("e2", i.into());
            assert!(read(
                &mut observer,
                t0 + STEP * i,
                Ok(vec![held("e1", 3), beating])
            )
            .is_empty());
        }
        assert_eq!(
            read(
                &mut observer,
                t0 + STEP * 4,
                Ok(vec![held("e1", 3), held("e2", 4)])
            ),
            vec![held("e1", 3)]
        );
    }

    /// A read that hung while the store was stopped and returned after it
    /// (5 s, over half the lease): its entries start nothing; the lease
    /// counts from the first prompt read after it.
    #[test]
    fn a_slow_read_starts_the_observation_again() {
        let mut observer = Observer::new(LEASE);
        let t0 = Instant::now();
        read(&mut observer, t0, Ok(vec![held("e1", 5)]));
        let due = observer.observe(t0 + STEP, t0 + STEP * 6, Ok::<_, ()>(vec![held("e1", 5)]));
        assert!(due.is_empty());
        for i in 7..11 {
            assert!(read(&mut observer, t0 + STEP * i, Ok(vec![held("e1", 5)])).is_empty());
        }
        assert_eq!(
            read(&mut observer, t0 + STEP * 11, Ok(vec![held("e1", 5)])).len(),
            1
        );
    }

    /// The store failed for longer than the lease: the first good read
    /// after it is a new start, not the end of a silent lease.
    #[test]
    fn failed_reads_start_the_observation_again() {
        let mut observer = Observer::new(LEASE);
        let t0 = Instant::now();
        read(&mut observer, t0, Ok(vec![held("e1", 5)]));
        for i in 1..8 {
            read(&mut observer, t0 + STEP * i, Err(()));
        }
        for i in 8..12 {
            assert!(read(&mut observer, t0 + STEP * i, Ok(vec![held("e1", 5)])).is_empty());
        }
        assert_eq!(
            read(&mut observer, t0 + STEP * 12, Ok(vec![held("e1", 5)])).len(),
            1
        );
    }

    /// This worker itself did not read for longer than half the lease (it
    /// was paused): it cannot know the holder was silent meanwhile.
    #[test]
    fn a_gap_between_reads_starts_the_observation_again() {
        let mut observer = Observer::new(LEASE);
        let t0 = Instant::now();
        read(&mut observer, t0, Ok(vec![held("e1", 5)]));
        assert!(read(&mut observer, t0 + STEP * 6, Ok(vec![held("e1", 5)])).is_empty());
    }

    /// More entries held than an idempotency layer would watch: every one
    /// is watched (each read lists them all, and only them).
    #[test]
    fn every_held_entry_is_watched() {
        let mut observer = Observer::new(LEASE);
        let t0 = Instant::now();
        let many: Vec<Held> = (0..crate::lease_watch::MAX_WATCHED + 10)
            .map(|n| held(&format!("e{n}"), 1))
            .collect();
        for i in 0..4 {
            assert!(read(&mut observer, t0 + STEP * i, Ok(many.clone())).is_empty());
        }
        assert_eq!(read(&mut observer, t0 + STEP * 4, Ok(many.clone())), many);
    }

    /// An entry missing from a read (released, finished) is watched anew
    /// if it is held again.
    #[test]
    fn an_entry_missing_from_a_read_is_forgotten() {
        let mut observer = Observer::new(LEASE);
        let t0 = Instant::now();
        read(&mut observer, t0, Ok(vec![held("e1", 5)]));
        read(&mut observer, t0 + STEP, Ok(vec![]));
        for i in 2..6 {
            assert!(read(&mut observer, t0 + STEP * i, Ok(vec![held("e1", 5)])).is_empty());
        }
        assert_eq!(
            read(&mut observer, t0 + STEP * 6, Ok(vec![held("e1", 5)])).len(),
            1
        );
        observer.forget("e1");
        assert!(read(&mut observer, t0 + STEP * 7, Ok(vec![held("e1", 5)])).is_empty());
    }
}
