//! The reservation a request holds while its handler runs: a lease renewed in
//! the background, settled exactly once (completed or released), and
//! released promptly if the request is dropped or its handler panics.
//!
//! Why a spawned task for the release from `Drop`: `Drop` cannot await, and
//! the store call is async (a Redis round trip). hyper, axum and tonic run on
//! tokio, so the release is spawned on the runtime the request ran on
//! ([`Handle::try_current`]); outside a tokio runtime nothing is spawned and
//! the reservation is left to be taken over, as from a crashed replica.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use tokio::runtime::Handle;
use tokio::task::JoinHandle;
use tokio::time::{sleep, Instant};

thread_local! {
    /// This thread's runtime was found without timers: do not probe again
    /// (each probe is a caught panic).
    static NO_TIMERS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Sleep for `duration`; `false` at once if the runtime has no timers. A
/// runtime built without `enable_time` panics on `sleep`, and servers
/// (`#[tokio::main]`, hyper, axum, tonic) always have them, but a benchmark
/// or test runtime may not: a missing timer must not take a request down.
pub(super) async fn pause_for(duration: Duration) -> bool {
    if NO_TIMERS.with(std::cell::Cell::get) {
        tokio::task::yield_now().await;
        return false;
    }
    match std::panic::catch_unwind(|| sleep(duration)) {
        Ok(timer) => {
            timer.await;
            true
        }
        Err(_) => {
            NO_TIMERS.with(|flag| flag.set(true));
            tokio::task::yield_now().await;
            false
        }
    }
}

use super::store::{IdempotencyStore, StoredOutcome, Token};
use super::watch::Watch;

/// How often the lease is renewed: three times per lock TTL, so a replica
/// watching the reservation sees progress about three times in the lock
/// TTL it waits before presuming the holder dead, and two renewals in a row
/// may fail (a store hiccup) without that.
pub(super) const RENEWALS_PER_TTL: u32 = 3;

/// First pause between two attempts of a failed completion or release,
/// doubled after each failure up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(25);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// How many times a failed release is tried. A release that never lands
/// costs only time (copies get `409` until one takes it over), never a
/// second run, so it is not worth holding the response longer.
const RELEASE_ATTEMPTS: u32 = 4;

/// Why a reservation was given up without the handler's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Abandon {
    /// The request was dropped (client gone, a timeout fired).
    Cancelled,
    /// The handler panicked.
    Panicked,
}

/// Running totals of what happened to reservations. Shared by the clones of
/// one [`IdempotencyLayer`](super::IdempotencyLayer); read them with
/// [`IdempotencyLayer::counters`](super::IdempotencyLayer::counters).
#[derive(Clone, Default)]
pub(crate) struct IdempotencyCounters {
    inner: Arc<Totals>,
}

#[derive(Default)]
struct Totals {
    completed: AtomicU64,
    released: AtomicU64,
    cancelled: AtomicU64,
    panicked: AtomicU64,
    renewals: AtomicU64,
    renewal_failures: AtomicU64,
    leases_lost: AtomicU64,
    completion_retries: AtomicU64,
    completions_lost: AtomicU64,
    takeovers: AtomicU64,
}

/// What became of an [`IdempotencyLayer`](super::IdempotencyLayer)'s reservations so far
/// ([`counts`](super::IdempotencyLayer::counts)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct IdempotencyCounts {
    /// Deliveries whose completion was recorded.
    pub completed: u64,
    /// Reservations released after a failed handler (`5xx`, a non-OK
    /// `grpc-status`, a service error), so the sender's retry runs.
    pub released: u64,
    /// Reservations released because the request was dropped mid-handler.
    pub cancelled: u64,
    /// Reservations released because the handler panicked.
    pub panicked: u64,
    /// Lease renewals that landed.
    pub renewals: u64,
    /// Lease renewals the store did not answer (retried).
    pub renewal_failures: u64,
    /// Leases the store reported gone while the handler still ran: a copy
    /// may have run at the same time. Alert on it: another replica took the
    /// delivery over because this one showed no progress for a lock TTL (it
    /// was paused, or cut off from a store the others reached), or the
    /// store lost the key (restart without persistence, failover to a
    /// replica that had not received it). A stopped store alone does not
    /// cause it.
    pub leases_lost: u64,
    /// Completion writes that failed and were tried again.
    pub completion_retries: u64,
    /// Completions that could not be recorded: the key was taken over by
    /// another request, or the store stayed down for an hour. The
    /// handler ran; a later copy of that delivery may run it again. Alert on
    /// it.
    pub completions_lost: u64,
    /// Reservations this layer took over from a holder presumed dead: one
    /// this replica watched, unchanged, for a lock TTL of its own clock
    /// while the store kept answering (a replica that crashed or hung
    /// mid-handler).
    pub takeovers: u64,
}

impl IdempotencyCounters {
    /// The totals so far.
    pub fn snapshot(&self) -> IdempotencyCounts {
        let t = &self.inner;
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        IdempotencyCounts {
            completed: get(&t.completed),
            released: get(&t.released),
            cancelled: get(&t.cancelled),
            panicked: get(&t.panicked),
            renewals: get(&t.renewals),
            renewal_failures: get(&t.renewal_failures),
            leases_lost: get(&t.leases_lost),
            completion_retries: get(&t.completion_retries),
            completions_lost: get(&t.completions_lost),
            takeovers: get(&t.takeovers),
        }
    }
}

impl IdempotencyCounters {
    pub(super) fn took_over(&self) {
        bump(&self.inner.takeovers);
    }
}

impl fmt::Debug for IdempotencyCounters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.snapshot(), f)
    }
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Everything a lease needs, shared with its renewal task.
struct Held {
    store: Arc<dyn IdempotencyStore>,
    key: String,
    token: Token,
    lock_ttl: Duration,
    counters: IdempotencyCounters,
    /// Told how the store answers, for this replica's takeover decisions.
    watch: Arc<Watch>,
    /// When the reservation was taken: the first renewal is due a period
    /// after it, however late the keeper starts.
    taken: Instant,
}

/// What a lease holds: inline, until a renewal task needs a share of it
/// (most handlers answer without ever waiting, and then no `Arc` is made).
enum Holding {
    Own(Held),
    Shared(Arc<Held>),
}

impl std::ops::Deref for Holding {
    type Target = Held;

    fn deref(&self) -> &Held {
        match self {
            Holding::Own(held) => held,
            Holding::Shared(held) => held,
        }
    }
}

/// A reservation held by one request. Settle it with [`Lease::complete`] or
/// [`Lease::release`]; dropped unsettled, it releases itself.
pub(crate) struct Lease {
    held: Option<Holding>,
    keeper: Option<JoinHandle<()>>,
    abandon: Abandon,
}

impl Lease {
    /// Hold the reservation of `key` taken with `token` no earlier than
    /// `taken` (the renewals count from it: an earlier instant only makes
    /// them early). Renewal starts with [`keep_alive`](Self::keep_alive),
    /// once the handler waits.
    pub(crate) fn start(
        store: Arc<dyn IdempotencyStore>,
        key: String,
        token: Token,
        lock_ttl: Duration,
        counters: IdempotencyCounters,
        watch: Arc<Watch>,
        taken: Instant,
    ) -> Self {
        let held = Held {
            store,
            key,
            token,
            lock_ttl,
            counters,
            watch,
            taken,
        };
        Self {
            held: Some(Holding::Own(held)),
            keeper: None,
            abandon: Abandon::Cancelled,
        }
    }

    /// Renew the reservation every third of the lock TTL from now on (once;
    /// later calls do nothing). Called when the handler first waits: a
    /// handler that answers at once never needs a renewal, and sparing it
    /// the task is most of what the lease costs per request.
    pub(crate) fn keep_alive(&mut self) {
        if self.keeper.is_some() {
            return;
        }
        let Ok(runtime) = Handle::try_current() else {
            return;
        };
        let shared = match self.held.take() {
            Some(Holding::Own(held)) => Arc::new(held),
            Some(Holding::Shared(held)) => held,
            None => return,
        };
        self.keeper = Some(runtime.spawn(keep(Arc::clone(&shared))));
        self.held = Some(Holding::Shared(shared));
    }

    /// The handler panicked: a release from `Drop` says so.
    pub(crate) fn mark_panicked(&mut self) {
        self.abandon = Abandon::Panicked;
    }

    fn take(&mut self) -> Option<Holding> {
        if let Some(keeper) = self.keeper.take() {
            // A renewal in flight may still land after the completion; it
            // is token-checked, so it then changes nothing.
            keeper.abort();
        }
        self.held.take()
    }

    /// Record the handler's answer: complete with `status`, or release when
    /// there is none. The returned future owns everything it needs.
    pub(crate) fn settle(
        mut self,
        status: Option<StatusCode>,
        ttl: Duration,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let held = self.take();
        async move {
            let Some(held) = held else { return };
            match status {
                Some(status) => complete(held, StoredOutcome::new(status), ttl).await,
                None => release(&held, None).await,
            }
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let abandon = self.abandon;
        let Some(held) = self.take() else { return };
        match Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move { release(&held, Some(abandon)).await });
            }
            Err(_) => tracing::warn!(
                ?abandon,
                "idempotency: request abandoned outside a tokio runtime; \
                 its reservation is taken over by a copy after the lock TTL"
            ),
        }
    }
}

/// Renew the lease every third of the lock TTL until aborted or gone.
async fn keep(held: Arc<Held>) {
    let period = (held.lock_ttl / RENEWALS_PER_TTL).max(Duration::from_millis(1));
    let mut pause = period.saturating_sub(held.taken.elapsed());
    loop {
        if !pause_for(pause).await {
            tracing::warn!(
                "idempotency: the tokio runtime has no timers (`enable_time`); \
                 reservations are not renewed, and copies take them over after the lock TTL"
            );
            return;
        }
        let sent = Instant::now();
        let renewed = held
            .store
            .renew(&held.key, &held.token, held.lock_ttl)
            .await;
        held.watch
            .report(sent, Instant::now(), renewed.is_ok(), held.lock_ttl);
        match renewed {
            Ok(true) => {
                bump(&held.counters.inner.renewals);
                // The next renewal is due a period after this one was sent,
                // whatever the round trip took.
                pause = period.saturating_sub(sent.elapsed());
            }
            Ok(false) => {
                bump(&held.counters.inner.leases_lost);
                #[cfg(feature = "metrics")]
                crate::telemetry::record_lease_lost();
                tracing::error!(
                    target: "tower_webhook::audit",
                    event = "idempotency.lease_lost",
                    "idempotency: the store no longer holds this request's reservation while \
                     its handler runs (another replica took it over, presuming this one dead, or \
                     the store lost it); a copy of the delivery may run concurrently"
                );
                return;
            }
            Err(error) => {
                error.count("renew");
                bump(&held.counters.inner.renewal_failures);
                tracing::warn!(%error, "idempotency: lease renewal failed; retrying");
                // Retry sooner: the lease is still valid for a while, and
                // the store may answer again before it ends.
                pause = (period / 4).max(Duration::from_millis(1));
            }
        }
    }
}

/// How long a completion keeps being retried in the background once the
/// response has gone out (capped by the completion TTL).
const BACKGROUND_RETRY_LIMIT: Duration = Duration::from_secs(3600);

/// Write the completion, retrying with a bounded backoff until it lands or
/// the store proves the lease gone. The response waits for it up to one
/// lock TTL from the first failed attempt (so the sender's next copy
/// normally sees the completion); after
/// that the response goes out and the retries go on in the background, up
/// to an hour: a completion queued while Redis is stalled still lands when
/// it answers.
async fn complete(held: Holding, outcome: StoredOutcome, ttl: Duration) {
    if !complete_within(&held, outcome, ttl, held.lock_ttl).await {
        tracing::warn!(
            "idempotency: the store has not taken the completion within the lock TTL; \
             answering now and retrying in the background"
        );
        detach(async move {
            if !complete_within(&held, outcome, ttl, ttl.min(BACKGROUND_RETRY_LIMIT)).await {
                bump(&held.counters.inner.completions_lost);
                #[cfg(feature = "metrics")]
                crate::telemetry::record_completion_lost();
                tracing::error!(
                    target: "tower_webhook::audit",
                    event = "idempotency.completion_lost",
                    cause = "store_unavailable",
                    "idempotency: the handler ran but the store never took the completion; \
                     a later copy of the delivery may run again"
                );
            }
        });
    }
}

/// Try the completion for `window` from its first failure (the clock is
/// read only then: a write that lands at once, the usual case, costs no
/// clock read); `false` if the store never answered.
async fn complete_within(
    held: &Held,
    outcome: StoredOutcome,
    ttl: Duration,
    window: Duration,
) -> bool {
    let counters = &held.counters.inner;
    let mut backoff = FIRST_BACKOFF;
    let mut until = None;
    loop {
        match held
            .store
            .complete(&held.key, &held.token, outcome, ttl)
            .await
        {
            Ok(true) => {
                bump(&counters.completed);
                return true;
            }
            Ok(false) => {
                bump(&counters.completions_lost);
                #[cfg(feature = "metrics")]
                crate::telemetry::record_completion_lost();
                tracing::error!(
                    target: "tower_webhook::audit",
                    event = "idempotency.completion_lost",
                    cause = "lease_gone",
                    "idempotency: the handler ran but another request holds or finished the \
                     delivery; the completion was not recorded"
                );
                return true;
            }
            Err(error)
                if Instant::now() + backoff
                    < *until.get_or_insert_with(|| Instant::now() + window) =>
            {
                error.count("complete");
                held.watch.failed(Instant::now());
                bump(&counters.completion_retries);
                tracing::warn!(%error, ?backoff, "idempotency: completion write failed; retrying");
                pause_for(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            Err(error) => {
                error.count("complete");
                held.watch.failed(Instant::now());
                tracing::warn!(%error, "idempotency: completion write failed");
                return false;
            }
        }
    }
}

/// Drop the reservation so the sender's retry runs; a few attempts.
async fn release(held: &Held, abandon: Option<Abandon>) {
    let counters = &held.counters.inner;
    match abandon {
        None => bump(&counters.released),
        Some(Abandon::Cancelled) => bump(&counters.cancelled),
        Some(Abandon::Panicked) => bump(&counters.panicked),
    }
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=RELEASE_ATTEMPTS {
        match held.store.release(&held.key, &held.token).await {
            Ok(_) => return,
            Err(error) if attempt < RELEASE_ATTEMPTS => {
                error.count("release");
                held.watch.failed(Instant::now());
                tracing::debug!(%error, "idempotency: release failed; retrying");
                pause_for(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            Err(error) => {
                error.count("release");
                tracing::warn!(
                    %error,
                    "idempotency: could not release the reservation; a copy takes it over after \
                     the lock TTL"
                );
            }
        }
    }
}

/// Run a settle that can no longer be awaited by its request (the request
/// was dropped mid-write) to its end on the runtime.
pub(crate) fn detach(finish: impl std::future::Future<Output = ()> + Send + 'static) {
    match Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn(finish);
        }
        Err(_) => tracing::warn!(
            "idempotency: outcome write abandoned outside a tokio runtime; \
             copies take the reservation over after the lock TTL"
        ),
    }
}

type Finish = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// The reservation of a gRPC delivery whose status comes in the trailers:
/// settled when the response body ends (`grpc-status: 0` completes, any
/// other status or none releases), released if the body is dropped first.
pub struct PendingOutcome {
    lease: Option<Lease>,
    ttl: Duration,
    finish: Option<Finish>,
}

impl PendingOutcome {
    pub(crate) fn new(lease: Lease, ttl: Duration) -> Self {
        Self {
            lease: Some(lease),
            ttl,
            finish: None,
        }
    }

    /// The body ended with `trailers` (or without any): record the outcome.
    pub(crate) fn poll_settle(
        &mut self,
        trailers: Option<&http::HeaderMap>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if let Some(lease) = self.lease.take() {
            let status = grpc_ok(trailers).then_some(StatusCode::OK);
            self.finish = Some(Box::pin(lease.settle(status, self.ttl)));
        }
        if let Some(finish) = self.finish.as_mut() {
            std::task::ready!(finish.as_mut().poll(cx));
            self.finish = None;
        }
        std::task::Poll::Ready(())
    }

    /// The body failed: release, as for a handler error.
    pub(crate) fn fail(&mut self) {
        if let Some(lease) = self.lease.take() {
            detach(lease.settle(None, self.ttl));
        }
    }

    /// Whether the outcome was recorded (or given up).
    pub(crate) fn is_settled(&self) -> bool {
        self.lease.is_none() && self.finish.is_none()
    }
}

impl Drop for PendingOutcome {
    fn drop(&mut self) {
        // A lease still held releases itself (cancelled); a write under way
        // is finished on the runtime.
        if let Some(finish) = self.finish.take() {
            detach(finish);
        }
    }
}

impl fmt::Debug for PendingOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingOutcome")
            .field("settled", &self.is_settled())
            .finish()
    }
}

/// Whether gRPC status headers (a trailers-only response's headers, or the
/// trailers) say OK. No `grpc-status` at all is a failed call.
pub(crate) fn grpc_ok(headers: Option<&http::HeaderMap>) -> bool {
    headers
        .and_then(|headers| headers.get("grpc-status"))
        .is_some_and(|status| status.as_bytes().trim_ascii() == b"0")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idempotency::{MemoryStore, Reservation, StoreError, StoreFuture};
    use std::sync::atomic::AtomicBool;

    /// A memory store whose first completion fails, as a Redis blip would.
    struct Flaky {
        inner: MemoryStore,
        failed: AtomicBool,
    }

    impl IdempotencyStore for Flaky {
        fn reserve<'a>(&'a self, key: &'a str, ttl: Duration) -> StoreFuture<'a, Reservation> {
            self.inner.reserve(key, ttl)
        }
        fn complete<'a>(
            &'a self,
            key: &'a str,
            token: &'a Token,
            outcome: StoredOutcome,
            ttl: Duration,
        ) -> StoreFuture<'a, bool> {
            if !self.failed.swap(true, Ordering::SeqCst) {
                return Box::pin(async { Err(StoreError::backend("blip")) });
            }
            self.inner.complete(key, token, outcome, ttl)
        }
        fn release<'a>(&'a self, key: &'a str, token: &'a Token) -> StoreFuture<'a, bool> {
            self.inner.release(key, token)
        }
        fn renew<'a>(
            &'a self,
            key: &'a str,
            token: &'a Token,
            ttl: Duration,
        ) -> StoreFuture<'a, bool> {
            self.inner.renew(key, token, ttl)
        }
    }

    #[test]
    fn a_runtime_without_timers_still_settles_the_lease() {
        // No `enable_time`: `tokio::time::sleep` would panic, in the renewal
        // task and in the completion's retry backoff. The lease must still
        // complete (after a failed attempt), and a dropped one release.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let store = Arc::new(Flaky {
                inner: MemoryStore::new(),
                failed: AtomicBool::new(false),
            });
            let counters = IdempotencyCounters::default();
            let lock_ttl = Duration::from_secs(10);
            for key in ["completed", "dropped"] {
                let Reservation::Acquired(token) = store.reserve(key, lock_ttl).await.unwrap()
                else {
                    panic!("fresh key");
                };
                let lease = Lease::start(
                    store.clone(),
                    key.into(),
                    token,
                    lock_ttl,
                    counters.clone(),
                    Arc::default(),
                    Instant::now(),
                );
                // Let the renewal task find out there are no timers.
                for _ in 0..10 {
                    tokio::task::yield_now().await;
                }
                if key == "completed" {
                    lease
                        .settle(Some(StatusCode::OK), Duration::from_secs(60))
                        .await;
                } else {
                    drop(lease);
                    for _ in 0..10 {
                        tokio::task::yield_now().await;
                    }
                }
            }
            assert!(matches!(
                store.reserve("completed", lock_ttl).await.unwrap(),
                Reservation::Completed(_)
            ));
            assert!(matches!(
                store.reserve("dropped", lock_ttl).await.unwrap(),
                Reservation::Acquired(_)
            ));
            let counts = counters.snapshot();
            assert_eq!(
                (
                    counts.completed,
                    counts.completion_retries,
                    counts.cancelled
                ),
                (1, 1, 1)
            );
        });
    }
}
