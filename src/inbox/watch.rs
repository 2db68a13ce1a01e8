//! The takeover rule: a held entry passes to another worker only when that
//! worker has itself seen no sign of progress on it for the whole lease, on
//! its own monotonic clock.
//!
//! The store's idle times are not used: while a store is stopped, the
//! holder cannot record progress and the store's clock says the holder has
//! been idle, though it is alive and working. Here, an observation is only
//! as long as the run of successful, prompt reads that make it; a read that
//! fails or takes long, or a long gap between two reads (this worker itself
//! paused), starts every observation again.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::Held;

/// One worker's observations of the entries others hold.
#[derive(Debug)]
pub(crate) struct Observer {
    lease: Duration,
    /// The longest a read may take, and the longest gap between two reads,
    /// for the observation to go on.
    max_gap: Duration,
    /// Per entry id: the hold and heartbeat last seen, and since when (the
    /// end of the read that first returned them) they have not changed.
    seen: HashMap<String, (u64, u64, Instant)>,
    last_read_end: Option<Instant>,
}

impl Observer {
    pub(crate) fn new(lease: Duration) -> Self {
        Self {
            lease,
            max_gap: lease / 2,
            seen: HashMap::new(),
            last_read_end: None,
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
        let slow = ended.saturating_duration_since(started) > self.max_gap;
        let gap = self
            .last_read_end
            .is_some_and(|last| started.saturating_duration_since(last) > self.max_gap);
        let held = match result {
            Ok(held) if !slow && !gap => held,
            _ => {
                // The store failed or stalled, or this worker did not look:
                // what the holders did meanwhile is unknown.
                self.seen.clear();
                self.last_read_end = None;
                return Vec::new();
            }
        };
        self.last_read_end = Some(ended);
        let mut current = HashMap::with_capacity(held.len());
        let mut due = Vec::new();
        for entry in held {
            let since = match self.seen.get(&entry.id) {
                Some(&(token, beat, since)) if token == entry.token && beat == entry.beat => since,
                _ => ended,
            };
            // Unchanged from the end of the first read that saw it to the
            // start of this one: no progress for at least that long.
            if started.saturating_duration_since(since) >= self.lease {
                due.push(entry.clone());
            }
            current.insert(entry.id, (entry.token, entry.beat, since));
        }
        self.seen = current;
        due
    }

    /// Forget `id` (taken over, or gone).
    pub(crate) fn forget(&mut self, id: &str) {
        self.seen.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(beat: u64) -> Held {
        Held {
            id: "e1".into(),
            token: 7,
            beat,
        }
    }

    const LEASE: Duration = Duration::from_secs(4);
    const STEP: Duration = Duration::from_secs(1);

    /// Reads every second, each taking no time.
    fn read(observer: &mut Observer, at: Instant, result: Result<Vec<Held>, ()>) -> Vec<Held> {
        observer.observe(at, at, result)
    }

    #[test]
    fn a_silent_holder_is_due_after_the_lease() {
        let mut observer = Observer::new(LEASE);
        let t0 = Instant::now();
        for i in 0..4 {
            assert!(read(&mut observer, t0 + STEP * i, Ok(vec![held(3)])).is_empty());
        }
        assert_eq!(
            read(&mut observer, t0 + STEP * 4, Ok(vec![held(3)])),
            vec![held(3)]
        );
    }

    #[test]
    fn a_heartbeat_starts_the_observation_again() {
        let mut observer = Observer::new(LEASE);
        let t0 = Instant::now();
        for i in 0..3 {
            read(&mut observer, t0 + STEP * i, Ok(vec![held(1)]));
        }
        for i in 3..7 {
            assert!(read(&mut observer, t0 + STEP * i, Ok(vec![held(2)])).is_empty());
        }
        assert_eq!(
            read(&mut observer, t0 + STEP * 7, Ok(vec![held(2)])).len(),
            1
        );
    }

    /// The store stopped for longer than the lease: the holder could not
    /// beat, and the reads failed. The first good read after it is a new
    /// start, not the end of a silent lease.
    #[test]
    fn failed_reads_start_the_observation_again() {
        let mut observer = Observer::new(LEASE);
        let t0 = Instant::now();
        read(&mut observer, t0, Ok(vec![held(5)]));
        for i in 1..8 {
            read(&mut observer, t0 + STEP * i, Err(()));
        }
        assert!(read(&mut observer, t0 + STEP * 8, Ok(vec![held(5)])).is_empty());
        // And it takes the whole lease again from there.
        for i in 9..12 {
            assert!(read(&mut observer, t0 + STEP * i, Ok(vec![held(5)])).is_empty());
        }
        assert_eq!(
            read(&mut observer, t0 + STEP * 12, Ok(vec![held(5)])).len(),
            1
        );
    }

    /// A read that hung while the store was stopped and returned after it.
    #[test]
    fn a_slow_read_starts_the_observation_again() {
        let mut observer = Observer::new(LEASE);
        let t0 = Instant::now();
        read(&mut observer, t0, Ok(vec![held(5)]));
        let due = observer.observe(t0 + STEP, t0 + STEP * 6, Ok::<_, ()>(vec![held(5)]));
        assert!(due.is_empty());
        assert!(read(&mut observer, t0 + STEP * 7, Ok(vec![held(5)])).is_empty());
    }

    /// This worker itself did not read for longer than half the lease (it
    /// was paused): it cannot know the holder was silent meanwhile.
    #[test]
    fn a_gap_between_reads_starts_the_observation_again() {
        let mut observer = Observer::new(LEASE);
        let t0 = Instant::now();
        read(&mut observer, t0, Ok(vec![held(5)]));
        assert!(read(&mut observer, t0 + STEP * 6, Ok(vec![held(5)])).is_empty());
    }
}
