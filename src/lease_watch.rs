//! When a holder may be presumed dead: the one rule behind every takeover
//! (a duplicate taking over an idempotency reservation, an inbox worker
//! taking over a claim).
//!
//! A store's clock runs on while the store is stopped, and nobody's
//! progress can land meanwhile: a lease that expired on that clock says
//! nothing about its holder. So the taker judges on its own monotonic
//! clock. It remembers each holder it found (a key and its progress: a
//! token and a heartbeat or renewal count) and since when, and presumes
//! it dead only once it has seen the same progress, unchanged, for a whole
//! lease, and only if all that time its own calls to the store kept being
//! answered promptly.
//!
//! "Answered promptly all along" is judged from every call the caller
//! [reports](LeaseWatch::report): a call that fails, or takes longer than
//! the rule's `max_gap` (a stalled store answers late, and what it says
//! may be older than it looks), or a silence of more than `max_gap`
//! between two answers (the store, or the taker itself, was stopped
//! unseen) ends the unbroken run of answers, and a sighting made before
//! the run began cannot justify a takeover: the observation starts again.
//!
//! Times are offsets on the caller's own monotonic clock from an origin of
//! its choosing, so the rule is tested with a plain counter for a clock.
//! An offset that goes backwards is never read as time passing.
//!
//! A bounded watch ([`LeaseWatch::default`], the idempotency layer's) keeps
//! at most [`MAX_WATCHED`] sightings, and a full watch never forgets one
//! still maturing: forgetting them all (as it once did) let more held keys
//! than the bound, sighted within a lease, restart every watch before any
//! matured, so nothing was ever taken over. When a new key finds the watch
//! full, it first drops the sightings that no longer matter
//! ([stale](STALE_AFTER_LEASES): made before the current run of answers,
//! so they can never mature, or first made more than ten leases ago and
//! not taken over since); if it is still full the new key is not watched
//! (its verdict is [`Wait`](Verdict::Wait)) and is watched from a sighting
//! once room frees up: a holder taken over, acquired or completed is
//! forgotten, and sightings turn stale.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// At most this many holders watched by a bounded watch, so that a flood of
/// held keys takes bounded memory. A full watch drops only
/// [stale](STALE_AFTER_LEASES) sightings, and else watches no new key
/// until room frees up: dropping sightings still maturing (all of them, as
/// it once did) could restart every watch before any matured.
pub(crate) const MAX_WATCHED: usize = 4096;

/// A sighting is stale, and dropped when the watch is full and a new key
/// comes, when it can no longer help a takeover, or is unlikely to:
///
/// * made before the current unbroken run of answers: it can never
///   mature (the next sighting of its key starts the watch again);
/// * first made more than this many leases ago: it has been ripe for nine
///   leases and no copy of its key came to take it over (one would have,
///   and forgotten it). Its holder finished elsewhere, or its sender gave
///   up or retries so seldom that another lease of watching is little.
///
/// Ten leases (ten minutes at the idempotency layer's default lock TTL)
/// outlast the minutes senders wait between retries: a horizon shorter than
/// those would, under a flood, drop the ripe sightings before their next
/// copies came, and take nothing over, as the old forget-all did. The
/// stores collect reservations nobody asks about after ten lock TTLs too.
const STALE_AFTER_LEASES: u64 = 10;

/// A full watch looks for stale sightings (a scan of the whole map) at most
/// this many times per lease.
const PRUNES_PER_LEASE: u64 = 4;

/// The terms of the rule, for one lease.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rule {
    /// How long a holder must be seen without progress.
    pub(crate) lease: Duration,
    /// The longest a call may take, and the longest silence between two
    /// answers, for the run of answers to go on. Shorter than the holder's
    /// progress period, so that a missed step of progress cannot hide.
    pub(crate) max_gap: Duration,
}

/// Whether a holder may be taken over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The holder may be alive.
    Wait,
    /// Seen unchanged for a lease with the store answering all along.
    PresumedDead,
}

/// A taker's watch over the holders it found, keyed by `K`, with their
/// progress `P`, and over the store's answers. Shareable: the run of
/// answers is kept in atomics (reported on every store call), the
/// sightings under a lock.
#[derive(Debug)]
pub(crate) struct LeaseWatch<K, P> {
    /// Nanoseconds of the latest prompt answer.
    last_answer: AtomicU64,
    /// Start of the current unbroken run of prompt answers.
    run_since: AtomicU64,
    /// The end of the latest failed or stalled call.
    last_failure: AtomicU64,
    sightings: Mutex<Sightings<K, P>>,
    /// `sightings` is not empty: read without the lock on hot paths.
    watching: AtomicBool,
    /// At most this many sightings (see [`MAX_WATCHED`]).
    max_watched: usize,
}

#[derive(Debug)]
struct Sightings<K, P> {
    map: HashMap<K, Sighting<P>>,
    /// No sighting in `map` was first made earlier: lowered by every
    /// insertion, set by every prune. While it is not stale, nothing is,
    /// and a full watch does not scan.
    oldest: u64,
    /// No prune before this (see [`PRUNES_PER_LEASE`]).
    next_prune: u64,
    /// How many prunes scanned the map.
    #[cfg(test)]
    scans: u64,
}

#[derive(Debug)]
struct Sighting<P> {
    progress: P,
    /// When it was first seen (the end of the call that saw it).
    since: u64,
}

impl<K, P> Default for LeaseWatch<K, P> {
    fn default() -> Self {
        Self::bounded(MAX_WATCHED)
    }
}

impl<K, P> LeaseWatch<K, P> {
    /// A watch without the bound, for a caller whose every read lists all
    /// the holders there are and which [retains](Self::retain) only those:
    /// the store bounds the memory, and a bound here would keep holders
    /// unwatched when more are held, so some would never be taken over.
    pub(crate) fn unbounded() -> Self {
        Self::bounded(usize::MAX)
    }

    /// A watch of at most `max_watched` holders (at least one).
    pub(crate) fn bounded(max_watched: usize) -> Self {
        Self {
            last_answer: AtomicU64::new(0),
            run_since: AtomicU64::new(0),
            last_failure: AtomicU64::new(0),
            sightings: Mutex::new(Sightings {
                map: HashMap::new(),
                oldest: u64::MAX,
                next_prune: 0,
                #[cfg(test)]
                scans: 0,
            }),
            watching: AtomicBool::new(false),
            max_watched: max_watched.max(1),
        }
    }
}

impl<K: Eq + Hash, P: PartialEq + Clone> LeaseWatch<K, P> {
    fn sightings(&self) -> MutexGuard<'_, Sightings<K, P>> {
        // Every change under the lock leaves the map and its bounds
        // consistent (a prune is a `retain`, then the bounds).
        self.sightings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// A store call sent at `sent` ended at `ended`, answered (`ok`) or not.
    pub(crate) fn report(&self, sent: Duration, ended: Duration, ok: bool, rule: Rule) {
        let (sent, ended, max_gap) = (nanos(sent), nanos(ended), nanos(rule.max_gap));
        if !ok || stalled(sent, ended, max_gap) {
            self.last_failure.fetch_max(ended, Ordering::Relaxed);
            return;
        }
        let previous = self.last_answer.fetch_max(ended, Ordering::Relaxed);
        if ended > previous.saturating_add(max_gap) {
            // Nothing heard for longer than `max_gap`: the store may have
            // been stopped in between, unseen.
            self.run_since.fetch_max(ended, Ordering::Relaxed);
        }
    }

    /// A store call failed at `ended` (its start unknown or irrelevant).
    pub(crate) fn failed(&self, ended: Duration) {
        self.last_failure.fetch_max(nanos(ended), Ordering::Relaxed);
    }

    /// A call sent at `sent` and answered at `ended` (already
    /// [reported](Self::report)) found `key` held with `progress`.
    pub(crate) fn sight(
        &self,
        key: K,
        progress: &P,
        sent: Duration,
        ended: Duration,
        rule: Rule,
    ) -> Verdict {
        let (sent, ended) = (nanos(sent), nanos(ended));
        let mut sightings = self.sightings();
        if stalled(sent, ended, nanos(rule.max_gap)) {
            // What a stalled call says starts nothing.
            sightings.map.remove(&key);
            return Verdict::Wait;
        }
        // The unbroken run of prompt answers this sighting belongs to.
        let run = self
            .run_since
            .load(Ordering::Relaxed)
            .max(self.last_failure.load(Ordering::Relaxed).saturating_add(1));
        match sightings.map.get(&key) {
            Some(seen) if seen.progress == *progress && seen.since >= run => {
                // Unchanged from the end of the first call that saw it to
                // the start of this one: no progress for at least that long.
                if sent.saturating_sub(seen.since) >= nanos(rule.lease) {
                    return Verdict::PresumedDead;
                }
                return Verdict::Wait;
            }
            // Replaced in place: the map does not grow.
            Some(_) => {}
            None => {
                if sightings.map.len() >= self.max_watched
                    && !sightings.make_room(self.max_watched, ended, run, rule)
                {
                    // Full of sightings that may still mature: none is
                    // given up for this one, which is watched from a
                    // sighting once room frees up.
                    return Verdict::Wait;
                }
            }
        }
        sightings.map.insert(
            key,
            Sighting {
                progress: progress.clone(),
                since: ended,
            },
        );
        sightings.oldest = sightings.oldest.min(ended);
        self.watching.store(true, Ordering::Relaxed);
        Verdict::Wait
    }

    /// Whether any holder is watched.
    pub(crate) fn watching(&self) -> bool {
        self.watching.load(Ordering::Relaxed)
    }

    /// `key` is no longer held by the one watched (acquired, completed,
    /// taken over, gone): stop watching it.
    pub(crate) fn forget<Q>(&self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        if !self.watching() {
            return;
        }
        let mut sightings = self.sightings();
        sightings.map.remove(key);
        if sightings.map.is_empty() {
            self.watching.store(false, Ordering::Relaxed);
        }
    }

    /// Watch only the holders `keep` accepts (those a full read still
    /// found).
    pub(crate) fn retain(&self, mut keep: impl FnMut(&K) -> bool) {
        let mut sightings = self.sightings();
        sightings.map.retain(|key, _| keep(key));
        self.watching
            .store(!sightings.map.is_empty(), Ordering::Relaxed);
    }
}

impl<K, P> Sightings<K, P> {
    /// The watch is full and a new key came at `now`: drop the stale
    /// sightings, if any may be and no prune ran in the last
    /// `1 / PRUNES_PER_LEASE` of a lease. Whether there is room now.
    ///
    /// The cost is bounded so that a flood of new keys against a full watch
    /// stays cheap: a scan visits at most `max_watched` sightings and runs
    /// only when the watch is full, a new key comes, the oldest sighting
    /// (`oldest`, a lower bound kept without a scan) is stale, and no scan
    /// ran in the last quarter lease. So at most four scans per lease,
    /// however many calls; every other call against a full watch costs one
    /// map lookup and two comparisons, and a full watch of fresh sightings
    /// does not scan at all until its oldest turns stale. A new key waits
    /// at most a quarter lease longer for room than without the limit.
    fn make_room(&mut self, max_watched: usize, now: u64, run: u64, rule: Rule) -> bool {
        let lease = nanos(rule.lease);
        let horizon = lease.saturating_mul(STALE_AFTER_LEASES);
        let stale = |since: u64| since < run || now.saturating_sub(since) > horizon;
        if now < self.next_prune || !stale(self.oldest) {
            return false;
        }
        #[cfg(test)]
        {
            self.scans += 1;
        }
        self.map.retain(|_, seen| !stale(seen.since));
        self.oldest = self
            .map
            .values()
            .map(|seen| seen.since)
            .min()
            .unwrap_or(u64::MAX);
        self.next_prune = now.saturating_add(lease / PRUNES_PER_LEASE);
        self.map.len() < max_watched
    }
}

/// A call that took longer than `max_gap`: the store stalled meanwhile.
fn stalled(sent: u64, ended: u64, max_gap: u64) -> bool {
    ended.saturating_sub(sent) > max_gap
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lease 3 s, answers at most 1 s apart (the idempotency layer's
    /// default shape: renewals every third of the lease).
    const RULE: Rule = Rule {
        lease: Duration::from_secs(3),
        max_gap: Duration::from_secs(1),
    };

    fn ms(t: u64) -> Duration {
        Duration::from_millis(t)
    }

    type Watch = LeaseWatch<&'static str, u64>;

    /// A prompt call at `t` ms that found "k" with `progress`, reported
    /// then judged as the callers do.
    fn sight(watch: &Watch, t: u64, progress: u64) -> Verdict {
        watch.report(ms(t), ms(t), true, RULE);
        watch.sight("k", &progress, ms(t), ms(t), RULE)
    }

    fn dead(watch: &Watch, t: u64, progress: u64) -> bool {
        sight(watch, t, progress) == Verdict::PresumedDead
    }

    fn ping(watch: &Watch, t: u64, ok: bool) {
        watch.report(ms(t), ms(t), ok, RULE);
    }

    fn pings(watch: &Watch, from: u64, to: u64) {
        for t in (from..to).step_by(500) {
            ping(watch, t, true);
        }
    }

    #[test]
    fn unchanged_for_a_lease_with_the_store_answering_is_presumed_dead() {
        let watch = Watch::default();
        assert!(!dead(&watch, 10, 1));
        pings(&watch, 500, 3000);
        assert!(!dead(&watch, 3009, 1), "not yet a lease");
        assert!(dead(&watch, 3010, 1));
    }

    /// Measured from the start of the call that sees it again: the answer
    /// may reflect any moment of the call.
    #[test]
    fn the_lease_ends_at_the_start_of_the_call() {
        let watch = Watch::default();
        assert!(!dead(&watch, 10, 1));
        pings(&watch, 500, 3000);
        watch.report(ms(2900), ms(3100), true, RULE);
        let late = watch.sight("k", &1, ms(2900), ms(3100), RULE);
        assert_eq!(late, Verdict::Wait);
    }

    #[test]
    fn progress_resets_the_observation() {
        let watch = Watch::default();
        assert!(!dead(&watch, 10, 1));
        pings(&watch, 500, 3000);
        assert!(!dead(&watch, 3010, 2), "progress a lease later");
        pings(&watch, 3500, 6000);
        assert!(!dead(&watch, 6009, 2));
        assert!(dead(&watch, 6010, 2), "a whole lease from the progress");
    }

    /// The store was unreachable between two sightings: the holder's
    /// progress could not land, so the unchanged holder says nothing.
    #[test]
    fn a_failed_read_restarts_the_observation() {
        let watch = Watch::default();
        assert!(!dead(&watch, 10, 1));
        ping(&watch, 900, true);
        ping(&watch, 1500, false);
        pings(&watch, 2000, 6000);
        assert!(!dead(&watch, 6000, 1), "sighting before the failure");
        // Watched again from there: a lease later, with answers all along.
        pings(&watch, 6500, 9000);
        assert!(!dead(&watch, 8999, 1));
        assert!(dead(&watch, 9000, 1));

        // A failure reported without its start (a renewal or release that
        // failed) counts the same.
        let failed = Watch::default();
        assert!(!dead(&failed, 10, 1));
        ping(&failed, 500, true);
        failed.failed(ms(900));
        pings(&failed, 1000, 4000);
        assert!(!dead(&failed, 4000, 1));
    }

    /// A call that hung while the store was stopped and was answered after
    /// it: what it says starts nothing, even while other calls answered.
    #[test]
    fn a_stalled_read_restarts_the_observation() {
        let watch = Watch::default();
        assert!(!dead(&watch, 10, 1));
        pings(&watch, 500, 2000);
        // Sent at 1000, answered 1100 ms later, other calls answering
        // promptly around it: no silence, only the stall.
        watch.report(ms(1000), ms(2100), true, RULE);
        pings(&watch, 2000, 4000);
        assert!(!dead(&watch, 4000, 1), "sighting before the stall");
        pings(&watch, 4500, 7000);
        assert!(
            dead(&watch, 7000, 1),
            "a lease from the first sighting after"
        );

        // The stalled read that sees the holder starts nothing either: the
        // lease counts from the first prompt read after it.
        let slow = Watch::default();
        pings(&slow, 0, 1500);
        slow.report(ms(500), ms(1600), true, RULE);
        assert_eq!(slow.sight("k", &1, ms(500), ms(1600), RULE), Verdict::Wait);
        pings(&slow, 1500, 2000);
        assert!(!dead(&slow, 2000, 1));
        pings(&slow, 2500, 4600);
        assert!(!dead(&slow, 4600, 1), "a lease from the stalled read");
        pings(&slow, 4600, 5000);
        assert!(
            dead(&slow, 5000, 1),
            "a lease from the prompt read after it"
        );
    }

    /// No answer for longer than `max_gap` (the taker itself was stopped,
    /// or nobody called): the holder may have progressed unseen.
    #[test]
    fn a_silence_restarts_the_observation() {
        let watch = Watch::default();
        assert!(!dead(&watch, 10, 1));
        assert!(!dead(&watch, 5000, 1));
        pings(&watch, 5500, 8000);
        assert!(dead(&watch, 8000, 1), "a lease from the read after it");
    }

    /// Offsets that go backwards (a caller's clocks disagreeing) never
    /// read as time passing, and never panic.
    #[test]
    fn a_clock_going_backwards_presumes_nothing() {
        let watch = Watch::default();
        assert!(!dead(&watch, 9000, 1));
        for t in (0..9000).rev().step_by(500) {
            assert!(!dead(&watch, t, 1), "at {t} ms");
        }
        // A call that ended before it was sent is not a stall.
        watch.report(ms(9500), ms(9400), true, RULE);
        assert_eq!(
            watch.sight("k", &1, ms(9500), ms(9400), RULE),
            Verdict::Wait
        );
        pings(&watch, 9500, 12000);
        assert!(
            dead(&watch, 12000, 1),
            "time passes again from the sighting"
        );
    }

    #[test]
    fn forgotten_and_unread_holders_are_watched_no_more() {
        let watch = Watch::default();
        assert!(!watch.watching());
        assert!(!dead(&watch, 10, 1));
        assert!(watch.watching());
        watch.forget("k");
        assert!(!watch.watching());
        pings(&watch, 500, 3000);
        assert!(!dead(&watch, 3010, 1), "watched again from here");

        watch.retain(|key| *key != "k");
        assert!(!watch.watching());
        pings(&watch, 3500, 6000);
        assert!(!dead(&watch, 6010, 1), "watched again from here");
        assert!(watch.watching());
    }

    #[test]
    fn the_watch_is_bounded() {
        let watch = LeaseWatch::<usize, u64>::default();
        for n in 0..MAX_WATCHED * 3 {
            let _ = watch.sight(n, &1, ms(0), ms(0), RULE);
            assert!(watch.sightings().map.len() <= MAX_WATCHED);
        }
        // And while time passes, sightings turn stale and are replaced.
        let watch = LeaseWatch::<usize, u64>::bounded(16);
        for n in 0..100_000 {
            let t = ms(n as u64);
            watch.report(t, t, true, RULE);
            let _ = watch.sight(n, &1, t, t, RULE);
            assert!(watch.sightings().map.len() <= 16);
        }
    }

    /// The watch of the tests below: room for four holders.
    type Few = LeaseWatch<u32, u64>;

    const ROOM: u32 = 4;

    /// A prompt call at `t` ms that found `key` held, without progress.
    fn sight_key(watch: &Few, t: u64, key: u32) -> Verdict {
        watch.report(ms(t), ms(t), true, RULE);
        watch.sight(key, &1, ms(t), ms(t), RULE)
    }

    fn pings_to(watch: &Few, from: u64, to: u64) {
        for t in (from..to).step_by(500) {
            watch.report(ms(t), ms(t), true, RULE);
        }
    }

    /// More held keys than the watch has room for, sighted within a lease,
    /// used to forget every sighting before any matured: nothing was taken
    /// over. The keys watched first are still taken over after a lease.
    #[test]
    fn a_full_watch_still_takes_over_the_holders_it_watches() {
        let watch = Few::bounded(ROOM as usize);
        for key in 0..ROOM {
            assert_eq!(sight_key(&watch, 10, key), Verdict::Wait);
        }
        pings_to(&watch, 500, 1000);
        for key in ROOM..ROOM * 3 {
            assert_eq!(sight_key(&watch, 1000, key), Verdict::Wait, "not watched");
        }
        pings_to(&watch, 1500, 3000);
        for key in 0..ROOM {
            assert_eq!(sight_key(&watch, 3010, key), Verdict::PresumedDead);
        }
        // Those not watched wait a lease from the sighting that found room.
        for key in 0..ROOM {
            watch.forget(&key);
        }
        assert_eq!(sight_key(&watch, 3010, ROOM), Verdict::Wait);
        pings_to(&watch, 3500, 6000);
        assert_eq!(sight_key(&watch, 6009, ROOM), Verdict::Wait);
        assert_eq!(sight_key(&watch, 6010, ROOM), Verdict::PresumedDead);
    }

    /// A full watch of sightings nobody asks about any more (their holders
    /// finished elsewhere) makes room for new keys once they are stale.
    #[test]
    fn stale_sightings_make_room_for_new_keys() {
        let lease = 3000;
        let horizon = lease * STALE_AFTER_LEASES;
        let watch = Few::bounded(ROOM as usize);
        for key in 0..ROOM {
            assert_eq!(sight_key(&watch, 10, key), Verdict::Wait);
        }
        pings_to(&watch, 500, horizon + 10);
        // Ten leases old: still kept, and still ripe.
        assert_eq!(sight_key(&watch, horizon + 10, 100), Verdict::Wait);
        assert_eq!(sight_key(&watch, horizon + 10, 0), Verdict::PresumedDead);
        // Older: dropped for a new key, watched from here.
        assert_eq!(sight_key(&watch, horizon + 11, 100), Verdict::Wait);
        assert!(watch.sightings().map.len() <= ROOM as usize);
        pings_to(&watch, horizon + 500, horizon + 3011);
        assert_eq!(
            sight_key(&watch, horizon + 3011, 100),
            Verdict::PresumedDead
        );
        // The dropped ones are watched again from their next sighting.
        assert_eq!(sight_key(&watch, horizon + 3011, 1), Verdict::Wait);

        // Sightings made before the store failed can never mature: they
        // make room at once.
        let watch = Few::bounded(ROOM as usize);
        for key in 0..ROOM {
            assert_eq!(sight_key(&watch, 10, key), Verdict::Wait);
        }
        watch.report(ms(500), ms(500), false, RULE);
        assert_eq!(sight_key(&watch, 1000, 100), Verdict::Wait);
        pings_to(&watch, 1500, 4000);
        assert_eq!(sight_key(&watch, 4000, 100), Verdict::PresumedDead);
        assert_eq!(sight_key(&watch, 4000, 0), Verdict::Wait, "seen again");
    }

    /// A flood of new keys against a full watch scans it for stale
    /// sightings only once some may be, and then at most four times a
    /// lease, even when they turn stale one by one.
    #[test]
    fn a_full_watch_is_scanned_at_most_four_times_a_lease() {
        let room = 1000;
        let watch = Few::bounded(room);
        let horizon = 3000 * STALE_AFTER_LEASES;
        // Sightings a millisecond apart, then a new key every millisecond
        // (from 1 ms: a sighting at the origin precedes every run). Without
        // the limit, each would find the oldest just stale, and scan.
        for t in 1..100_000 {
            let _ = sight_key(&watch, t, t as u32);
            if t == horizon {
                assert_eq!(watch.sightings().scans, 0, "all fresh until now");
            }
        }
        let scans = watch.sightings().scans;
        let leases = (100_000 - horizon) / 3000 + 1;
        assert!(scans <= leases * PRUNES_PER_LEASE, "{scans} scans");
        // And the stale ones were replaced within a quarter lease.
        let sightings = watch.sightings();
        assert_eq!(sightings.map.len(), room);
        let oldest = sightings.map.values().map(|seen| seen.since).min();
        let by = 100_000 - 1 - horizon - 3000 / PRUNES_PER_LEASE;
        assert!(oldest >= Some(nanos(ms(by))), "{oldest:?}");
    }

    /// A flood of new keys against a full watch changes nothing for the
    /// holders it watches: their verdicts are those of a watch with room
    /// for all, call by call.
    #[test]
    fn a_flood_of_new_keys_leaves_the_verdicts_of_the_watched_alone() {
        let full = Few::bounded(ROOM as usize);
        let roomy = Few::unbounded();
        let mut flood = ROOM..;
        for t in (10..7000).step_by(10) {
            // The watched ones every 250 ms (first at 10 ms, filling the
            // watch), a new key every 10 ms.
            if t % 250 == 10 {
                for key in 0..ROOM {
                    assert_eq!(
                        sight_key(&full, t, key),
                        sight_key(&roomy, t, key),
                        "key {key} at {t} ms"
                    );
                }
            }
            let new = flood.next().unwrap();
            for watch in [&full, &roomy] {
                assert_eq!(sight_key(watch, t, new), Verdict::Wait);
            }
            assert!(full.sightings().map.len() <= ROOM as usize);
        }
        // And some verdict was a takeover, so the comparison meant something.
        for key in 0..ROOM {
            assert_eq!(sight_key(&full, 7000, key), Verdict::PresumedDead);
        }
    }
}
