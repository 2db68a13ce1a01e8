//! No takeover on the store's clock alone: a reservation passes to a second
//! replica only when that replica has watched it make no progress for a lock
//! TTL on its own clock, with the store answering all along. A stopped
//! Redis delays deliveries but hands none to a second replica while the
//! first is alive; a holder that really died is still taken over. Real
//! servers on 127.0.0.1, real `redis-server` processes.

#[cfg(feature = "redis")]
use crate::fleet;
#[cfg(feature = "redis")]
use crate::redis_server;
use crate::support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http::{HeaderName, StatusCode};
use http_body_util::Full;
use tokio::sync::Semaphore;
use tower_webhook::idempotency::{
    Holder, IdempotencyLayer, IdempotencyStore, MemoryStore, Reservation, StoreError, StoreFuture,
    StoredOutcome, Token,
};

use support::{is_replayed, Reply};

fn layer(lock_ttl: Duration) -> IdempotencyLayer {
    IdempotencyLayer::from_unsigned_header(HeaderName::from_static("webhook-id")).lock_ttl(lock_ttl)
}

async fn deliver(addr: SocketAddr, id: &str) -> Reply {
    support::send(
        support::post(addr, "/hook")
            .header("webhook-id", id)
            .body(Full::new(Bytes::from_static(b"{}")))
            .unwrap(),
    )
    .await
}

/// A replica whose handler counts its runs and then waits for a permit of
/// `gate` (none needed when `gate` is `None`).
async fn replica(
    layer: IdempotencyLayer,
    runs: Arc<AtomicUsize>,
    gate: Option<Arc<Semaphore>>,
) -> SocketAddr {
    let router = Router::new()
        .route(
            "/hook",
            post(move || {
                runs.fetch_add(1, Ordering::SeqCst);
                let gate = gate.clone();
                async move {
                    if let Some(gate) = gate {
                        let _permit = gate.acquire().await;
                    }
                    StatusCode::OK
                }
            }),
        )
        .layer(layer);
    support::serve(router).await
}

/// A handle on a store that can be cut: from then on every call fails at
/// once and changes nothing. Given to one replica, it is a replica that
/// crashed (or lost its network) after reserving: its reservation is left
/// behind, never renewed, never released. Shared by every replica, it is a
/// network partition: unlike a stopped Redis, nothing queues up to run on
/// resume, so the holder's renewals are simply lost.
struct Cuttable {
    inner: Arc<dyn IdempotencyStore>,
    cut: Arc<AtomicBool>,
    /// The error every call gets while cut.
    why: &'static str,
}

impl Cuttable {
    fn check(&self) -> Result<(), StoreError> {
        if self.cut.load(Ordering::SeqCst) {
            return Err(StoreError::backend(self.why));
        }
        Ok(())
    }
}

impl IdempotencyStore for Cuttable {
    fn reserve<'a>(&'a self, key: &'a str, lock_ttl: Duration) -> StoreFuture<'a, Reservation> {
        Box::pin(async move {
            self.check()?;
            self.inner.reserve(key, lock_ttl).await
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
            self.check()?;
            self.inner.complete(key, token, outcome, ttl).await
        })
    }

    fn release<'a>(&'a self, key: &'a str, token: &'a Token) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            self.check()?;
            self.inner.release(key, token).await
        })
    }

    fn renew<'a>(
        &'a self,
        key: &'a str,
        token: &'a Token,
        lock_ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            self.check()?;
            self.inner.renew(key, token, lock_ttl).await
        })
    }

    fn take_over<'a>(
        &'a self,
        key: &'a str,
        holder: &'a Holder,
        lock_ttl: Duration,
    ) -> StoreFuture<'a, Reservation> {
        Box::pin(async move {
            self.check()?;
            self.inner.take_over(key, holder, lock_ttl).await
        })
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move { self.check() })
    }
}

/// Wait until the handler has started `n` runs.
async fn runs_reach(runs: &AtomicUsize, n: usize) {
    while runs.load(Ordering::SeqCst) < n {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The holder replica reserves `id` and dies (its store handle is cut, its
/// handler never answers); the taker replica is then sent the delivery every
/// half lock TTL until it runs it. Returns how long after the taker's first
/// `409` it ran, and on which attempt.
async fn take_over_from_a_dead_holder(
    holder_store: Arc<dyn IdempotencyStore>,
    taker: IdempotencyLayer,
    lock_ttl: Duration,
    id: &str,
) -> (Duration, u32) {
    let cut = Arc::new(AtomicBool::new(false));
    let holder_runs = Arc::new(AtomicUsize::new(0));
    let taker_runs = Arc::new(AtomicUsize::new(0));
    let holder = replica(
        layer(lock_ttl).store(Cuttable {
            inner: holder_store,
            cut: Arc::clone(&cut),
            why: "this replica is gone",
        }),
        Arc::clone(&holder_runs),
        // Never answers: the run is in progress when the replica dies.
        Some(Arc::new(Semaphore::new(0))),
    )
    .await;
    let taker_addr = replica(taker.clone(), Arc::clone(&taker_runs), None).await;

    let first = tokio::spawn({
        let id = id.to_owned();
        async move { deliver(holder, &id).await }
    });
    runs_reach(&holder_runs, 1).await;
    cut.store(true, Ordering::SeqCst);

    // Copies further apart than the renewal period (a third of the lock
    // TTL), as a sender's retries are: between them, only the taker's own
    // pings show that the store kept answering.
    let every = lock_ttl / 2;
    let mut first_conflict = None;
    let mut attempts = 0;
    let ran = loop {
        attempts += 1;
        let sent = Instant::now();
        let reply = deliver(taker_addr, id).await;
        match reply.status {
            StatusCode::CONFLICT => {
                first_conflict.get_or_insert(sent);
            }
            StatusCode::OK => {
                assert!(!is_replayed(&reply), "nobody completed it");
                break sent;
            }
            other => panic!("unexpected {other}: {}", reply.text()),
        }
        // Generous: a dead holder must be taken over, not waited out.
        assert!(attempts < 100, "no takeover after {attempts} attempts");
        tokio::time::sleep(every).await;
    };
    let first_conflict = first_conflict.expect("the taker first saw the delivery in flight");
    assert_eq!(holder_runs.load(Ordering::SeqCst), 1);
    assert_eq!(taker_runs.load(Ordering::SeqCst), 1);
    // Taken over, and completed: the next copy is a duplicate.
    assert!(is_replayed(&deliver(taker_addr, id).await));
    assert_eq!(taker_runs.load(Ordering::SeqCst), 1);
    first.abort();
    (ran - first_conflict, attempts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_a_dead_holder_is_taken_over_after_a_lock_ttl_of_watching() {
    let lock_ttl = Duration::from_millis(600);
    let store = MemoryStore::new();
    let taker = layer(lock_ttl).store(store.clone());
    let (waited, attempts) =
        take_over_from_a_dead_holder(Arc::new(store), taker.clone(), lock_ttl, "msg_dead").await;
    println!("taken over {waited:?} after the first 409, on attempt {attempts}");
    // Never before the taker itself watched it for the lock TTL.
    assert!(waited >= lock_ttl, "{waited:?}");
    let counts = taker.counts();
    assert_eq!((counts.takeovers, counts.completed), (1, 1), "{counts:?}");
}

/// A live holder and a taker, two replicas sharing one store: the holder's
/// handler runs `key` and waits at `gate` while the taker gets copies.
struct LiveHolder {
    key: &'static str,
    runs: Arc<AtomicUsize>,
    gate: Arc<Semaphore>,
    holder_layer: IdempotencyLayer,
    taker_layer: IdempotencyLayer,
    taker: SocketAddr,
    first: tokio::task::JoinHandle<Reply>,
}

impl LiveHolder {
    /// Both replicas up, and the holder running `key`.
    async fn start(
        store: Arc<dyn IdempotencyStore>,
        lock_ttl: Duration,
        key: &'static str,
    ) -> Self {
        let runs = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Semaphore::new(0));
        let holder_layer = layer(lock_ttl).shared_store(Arc::clone(&store));
        let taker_layer = layer(lock_ttl).shared_store(store);
        let holder = replica(
            holder_layer.clone(),
            Arc::clone(&runs),
            Some(Arc::clone(&gate)),
        )
        .await;
        let taker = replica(taker_layer.clone(), Arc::clone(&runs), None).await;
        let first = tokio::spawn(async move { deliver(holder, key).await });
        runs_reach(&runs, 1).await;
        Self {
            key,
            runs,
            gate,
            holder_layer,
            taker_layer,
            taker,
            first,
        }
    }

    /// Copies to the taker, one every `pause` until `until` (at least one),
    /// each refused without a second run; `before_each` runs before each.
    /// How many were sent.
    async fn refuse_copies(
        &self,
        until: Instant,
        pause: Duration,
        mut before_each: impl FnMut(),
    ) -> usize {
        let mut copies = 0;
        while copies == 0 || Instant::now() < until {
            before_each();
            copies += 1;
            let reply = deliver(self.taker, self.key).await;
            assert_eq!(
                self.runs.load(Ordering::SeqCst),
                1,
                "copy {copies} ran a second time: {} {}",
                reply.status,
                reply.text()
            );
            assert_eq!(reply.status, StatusCode::CONFLICT, "copy {copies}");
            tokio::time::sleep(pause).await;
        }
        copies
    }

    /// The holder finishes: its delivery ran once, a later copy is a
    /// replay, the holder felt `trouble` and lost nothing to the taker.
    async fn finish_once(self, copies: usize, trouble: &str) {
        self.gate.add_permits(1);
        assert_eq!(self.first.await.unwrap().status, StatusCode::OK);
        assert!(is_replayed(&deliver(self.taker, self.key).await));
        assert_eq!(self.runs.load(Ordering::SeqCst), 1);
        let (held, took) = (self.holder_layer.counts(), self.taker_layer.counts());
        println!("{copies} copies refused; holder {held:?}; taker {took:?}");
        assert!(held.renewal_failures > 0, "{trouble} was felt: {held:?}");
        assert_eq!((held.completed, held.leases_lost), (1, 0), "{held:?}");
        assert_eq!(took.takeovers, 0, "{took:?}");
    }
}

/// The store is cut off from every replica for longer than the lock TTL
/// while the holder runs. The taker had seen the delivery in flight before
/// the cut, and gets a copy the moment the network heals, before the
/// holder's next renewal: the holder looks unchanged for more than a lock
/// TTL, yet it was alive all along and the store could not say so. The
/// taker's own failed calls in between forbid the takeover.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_cut_off_longer_than_the_lock_ttl_hands_no_live_holder_s_delivery_over() {
    let lock_ttl = Duration::from_millis(600);
    let store = Arc::new(Cuttable {
        inner: Arc::new(MemoryStore::new()),
        cut: Arc::new(AtomicBool::new(false)),
        why: "no route to the store",
    });
    let live = LiveHolder::start(store.clone(), lock_ttl, "msg_cut").await;
    assert_eq!(
        deliver(live.taker, "msg_cut").await.status,
        StatusCode::CONFLICT
    );

    store.cut.store(true, Ordering::SeqCst);
    tokio::time::sleep(lock_ttl * 2).await;
    store.cut.store(false, Ordering::SeqCst);

    let copies = live
        .refuse_copies(Instant::now() + lock_ttl * 2, lock_ttl / 5, || {})
        .await;
    live.finish_once(copies, "the cut").await;
}

/// A store where one key's calls can stall: while `stalled`, a
/// reservation hangs until it ends; while `renewals_lost`, every renewal
/// fails (lost, not queued). Pings always answer: served elsewhere, as by
/// another shard than the key's.
struct Stalling {
    inner: MemoryStore,
    stalled: AtomicBool,
    renewals_lost: AtomicBool,
}

impl IdempotencyStore for Stalling {
    fn reserve<'a>(&'a self, key: &'a str, lock_ttl: Duration) -> StoreFuture<'a, Reservation> {
        Box::pin(async move {
            while self.stalled.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            self.inner.reserve(key, lock_ttl).await
        })
    }

    fn complete<'a>(
        &'a self,
        key: &'a str,
        token: &'a Token,
        outcome: StoredOutcome,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        self.inner.complete(key, token, outcome, ttl)
    }

    fn release<'a>(&'a self, key: &'a str, token: &'a Token) -> StoreFuture<'a, bool> {
        self.inner.release(key, token)
    }

    fn renew<'a>(
        &'a self,
        key: &'a str,
        token: &'a Token,
        lock_ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        if self.renewals_lost.load(Ordering::SeqCst) {
            return Box::pin(async { Err(StoreError::backend("the key's shard is stopped")) });
        }
        self.inner.renew(key, token, lock_ttl)
    }

    fn take_over<'a>(
        &'a self,
        key: &'a str,
        holder: &'a Holder,
        lock_ttl: Duration,
    ) -> StoreFuture<'a, Reservation> {
        self.inner.take_over(key, holder, lock_ttl)
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        self.inner.ping()
    }
}

/// One key's calls stall for two lock TTLs while the store's pings answer
/// all along: the holder's renewals are lost, and the taker's reservation
/// hangs and comes back with the holder unchanged since before the stall.
/// No silence on the taker's side, no failed call: only the stalled one
/// tells it that it could not have seen a renewal, so its watch starts
/// again, and the holder's renewals (back half a lock TTL after the stall)
/// keep the delivery where it runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_reservation_hands_no_live_holder_s_delivery_over() {
    let lock_ttl = Duration::from_secs(1);
    let store = Arc::new(Stalling {
        inner: MemoryStore::new(),
        stalled: AtomicBool::new(false),
        renewals_lost: AtomicBool::new(false),
    });
    let live = LiveHolder::start(store.clone(), lock_ttl, "msg_stalled").await;
    assert_eq!(
        deliver(live.taker, "msg_stalled").await.status,
        StatusCode::CONFLICT
    );

    store.renewals_lost.store(true, Ordering::SeqCst);
    store.stalled.store(true, Ordering::SeqCst);
    let taker = live.taker;
    let stalled = tokio::spawn(async move { deliver(taker, "msg_stalled").await });
    tokio::time::sleep(lock_ttl * 2).await;
    store.stalled.store(false, Ordering::SeqCst);
    assert_eq!(stalled.await.unwrap().status, StatusCode::CONFLICT);

    let restored = Instant::now() + lock_ttl / 2;
    let copies = live
        .refuse_copies(Instant::now() + lock_ttl * 2, lock_ttl / 10, || {
            if Instant::now() >= restored {
                store.renewals_lost.store(false, Ordering::SeqCst);
            }
        })
        .await;
    live.finish_once(copies, "the stall").await;
}

#[cfg(feature = "redis")]
mod redis_faults {
    use super::*;
    use fleet::{fleet, ids, tally};
    use redis_server::RedisProcess;
    use tower_webhook::idempotency::{RedisOptions, RedisStore};

    async fn store(url: &str, timeout: Duration) -> RedisStore {
        RedisOptions::new()
            .response_timeout(timeout)
            .connect_timeout(timeout)
            .connect(url)
            .await
            .expect("connecting to Redis")
    }

    /// The store's side: every renewal changes the holder, a takeover
    /// replaces only the holder as it was seen, the replaced holder is
    /// fenced, and the reservation does not expire with the lock TTL.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_takes_over_only_the_holder_seen() {
        let redis = RedisProcess::start(&[]);
        let store = store(&redis.url(), Duration::from_secs(1)).await;
        let lock = Duration::from_millis(200);
        let in_flight = |found: Reservation| match found {
            Reservation::InFlight(holder) => holder,
            other => panic!("expected in flight, found {other:?}"),
        };
        let Reservation::Acquired(first) = store.reserve("k", lock).await.unwrap() else {
            panic!("a fresh key");
        };
        let seen = in_flight(store.reserve("k", lock).await.unwrap());
        assert_eq!(seen.token(), &first);
        assert!(store.renew("k", &first, lock).await.unwrap());
        let renewed = in_flight(store.reserve("k", lock).await.unwrap());
        assert_ne!(renewed, seen);
        // The sighting before the renewal takes nothing.
        assert_eq!(
            in_flight(store.take_over("k", &seen, lock).await.unwrap()),
            renewed
        );
        // Long past the lock TTL on Redis's clock: still held.
        tokio::time::sleep(lock * 3).await;
        assert_eq!(in_flight(store.reserve("k", lock).await.unwrap()), renewed);
        let pttl: i64 = redis
            .cli(&["PTTL", "tower-webhook:idempotency:{k}"])
            .trim()
            .parse()
            .unwrap();
        assert!(
            pttl > 3_000_000,
            "{pttl} ms: kept for the retention, not the lock TTL"
        );

        let Reservation::Acquired(next) = store.take_over("k", &renewed, lock).await.unwrap()
        else {
            panic!("the holder as seen is replaced");
        };
        assert!(!store.renew("k", &first, lock).await.unwrap());
        assert!(!store.release("k", &first).await.unwrap());
        let ok = StoredOutcome::new(StatusCode::OK);
        assert!(!store.complete("k", &first, ok, lock * 100).await.unwrap());
        assert!(store.complete("k", &next, ok, lock * 100).await.unwrap());
        assert_eq!(
            store.take_over("k", &renewed, lock).await.unwrap(),
            Reservation::Completed(ok)
        );

        // A reservation written by an earlier version (no progress) is left
        // to expire on its own lock TTL.
        redis.cli(&[
            "SET",
            "tower-webhook:idempotency:{old}",
            "S:0123abcd",
            "PX",
            "60000",
        ]);
        let old = in_flight(store.reserve("old", lock).await.unwrap());
        assert_eq!(old.progress(), 0);
        assert_eq!(
            in_flight(store.take_over("old", &old, lock).await.unwrap()),
            old
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_a_dead_holder_is_taken_over_after_a_lock_ttl_of_watching() {
        let redis = RedisProcess::start(&[]);
        let lock_ttl = Duration::from_millis(900);
        let timeout = Duration::from_millis(300);
        let taker = layer(lock_ttl).store(store(&redis.url(), timeout).await);
        let (waited, attempts) = take_over_from_a_dead_holder(
            Arc::new(store(&redis.url(), timeout).await),
            taker.clone(),
            lock_ttl,
            "msg_dead",
        )
        .await;
        println!("taken over {waited:?} after the first 409, on attempt {attempts}");
        assert!(waited >= lock_ttl, "{waited:?}");
        let counts = taker.counts();
        assert_eq!((counts.takeovers, counts.completed), (1, 1), "{counts:?}");
    }

    /// The trap, step by step: the holder is alive and renewing,
    /// Redis is stopped for longer than the lock TTL (on Redis's own clock
    /// the lease has expired when it wakes up), and the taker, which had
    /// already seen the delivery in flight before the stop, gets copies
    /// right after the resume and for two lock TTLs more. It must refuse
    /// them all until the holder's completion lands, then acknowledge.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stopped_redis_hands_no_live_holder_s_delivery_to_another_replica() {
        let redis = RedisProcess::start(&["--appendonly", "yes"]);
        let lock_ttl = Duration::from_secs(1);
        let timeout = Duration::from_millis(300);
        let runs = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Semaphore::new(0));
        let holder_layer = layer(lock_ttl).store(store(&redis.url(), timeout).await);
        let taker_layer = layer(lock_ttl).store(store(&redis.url(), timeout).await);
        let holder = replica(
            holder_layer.clone(),
            Arc::clone(&runs),
            Some(Arc::clone(&gate)),
        )
        .await;
        let taker = replica(taker_layer.clone(), Arc::clone(&runs), None).await;

        let first = tokio::spawn(async move { deliver(holder, "msg_stall").await });
        runs_reach(&runs, 1).await;
        // The taker sees it in flight before the stop: its watch begins.
        assert_eq!(
            deliver(taker, "msg_stall").await.status,
            StatusCode::CONFLICT
        );

        redis.signal("STOP");
        tokio::time::sleep(lock_ttl * 5 / 2).await;
        redis.signal("CONT");

        // Right after the resume, then for two lock TTLs: never a second run.
        let until = Instant::now() + lock_ttl * 2;
        let mut copies = 0;
        while copies == 0 || Instant::now() < until {
            copies += 1;
            let reply = deliver(taker, "msg_stall").await;
            assert_eq!(
                runs.load(Ordering::SeqCst),
                1,
                "copy {copies} ran a second time: {} {}",
                reply.status,
                reply.text()
            );
            assert!(
                matches!(
                    reply.status,
                    StatusCode::CONFLICT | StatusCode::SERVICE_UNAVAILABLE
                ),
                "copy {copies}: {} {}",
                reply.status,
                reply.text()
            );
            tokio::time::sleep(lock_ttl / 5).await;
        }

        // The holder finishes: its completion lands, the taker acknowledges.
        gate.add_permits(1);
        let answered = first.await.unwrap();
        assert_eq!(answered.status, StatusCode::OK);
        assert!(!is_replayed(&answered));
        let duplicate = deliver(taker, "msg_stall").await;
        assert_eq!(duplicate.status, StatusCode::OK);
        assert!(is_replayed(&duplicate));
        assert_eq!(runs.load(Ordering::SeqCst), 1);

        let (held, took) = (holder_layer.counts(), taker_layer.counts());
        println!("{copies} copies refused; holder {held:?}; taker {took:?}");
        assert_eq!(
            (held.completed, held.leases_lost, held.completions_lost),
            (1, 0, 0),
            "{held:?}"
        );
        assert_eq!(took.takeovers, 0, "{took:?}");
    }

    /// The load scenario: 4 replicas with their own connections,
    /// 50 ms handlers, lock TTL 3 s, Redis stopped for 5 s while deliveries
    /// run, every delivery sent by every replica until it hears `200`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn four_replicas_through_a_five_second_stop_run_each_delivery_once() {
        let _heavy = support::heavy().await;
        let redis = RedisProcess::start(&["--appendonly", "yes"]);
        let mut stores = Vec::new();
        for _ in 0..4 {
            stores.push(store(&redis.url(), Duration::from_secs(1)).await);
        }
        let replicas = fleet(stores, Duration::from_secs(3), Duration::from_millis(50)).await;
        let ids = ids("stop5", 400);

        let chaos = async {
            while replicas.runs.lock().unwrap().len() < ids.len() / 4 {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            redis.signal("STOP");
            tokio::time::sleep(Duration::from_secs(5)).await;
            redis.signal("CONT");
        };
        let (report, ()) = tokio::join!(
            fleet::deliver_together(&replicas, &ids, 4, 64, Duration::from_millis(100), 400),
            chaos
        );
        let (doubled, lost) = tally(&replicas.runs, &ids);
        let counts: Vec<_> = replicas.layers.iter().map(|l| l.counts()).collect();
        println!(
            "SIGSTOP 5 s, 4 replicas: {} doubled, {} lost; {:?} in {:?}, p50 {:?} p99 {:?}; \
             counters {counts:?}",
            doubled.len(),
            lost.len(),
            report.statuses,
            report.elapsed,
            report.percentile(0.5),
            report.percentile(0.99)
        );
        assert_eq!(report.unacknowledged, 0, "{report:?}");
        assert!(doubled.is_empty(), "ran twice: {doubled:?}");
        assert!(lost.is_empty(), "never ran: {lost:?}");
        // The stop was felt: copies were refused while Redis was stopped.
        assert!(report.statuses.contains_key("503"), "{report:?}");
        assert_eq!(counts.iter().map(|c| c.takeovers).sum::<u64>(), 0);
    }
}
