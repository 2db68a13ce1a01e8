//! Workers: take deliveries from the inbox and run the handler.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tower_service::Service;

use super::watch::Observer;
use super::{
    unix_millis, Claim, Claimed, Counter, Delivery, Inbox, InboxCounters, InboxCounts, InboxError,
    InboxLayer,
};
use crate::audit::{AuditConfig, AuditEvent, AuditLayer, Outcome};
use crate::body::BoxError;

type Handler = Arc<
    dyn Fn(Delivery) -> Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>> + Send + Sync,
>;

/// Takes deliveries from an [`Inbox`] and runs a handler on each.
///
/// * at least once from the inbox: an entry leaves it only through the
///   completion record, written after the handler returned `Ok`;
/// * a handler that returns `Err`, panics or runs past
///   [`handler_timeout`](Self::handler_timeout) is retried after a backoff
///   (doubling from [`backoff`](Self::backoff)'s base up to its cap), and
///   after [`max_attempts`](Self::max_attempts) goes to the dead letters;
/// * while the handler runs the worker beats a heartbeat on the entry
///   every quarter of the [`lease`](Self::lease); a worker that sees no
///   beat on an entry held by another for the whole lease, on its own clock
///   and in reads that all succeeded, takes it over (see the
///   [module](super) docs), so a worker killed mid-handler delays its
///   delivery by about one lease;
/// * [`WorkerHandle::shutdown`] stops taking entries, lets the handlers
///   running finish within the [grace](Self::shutdown_grace), and puts
///   back, without counting the attempt, what is still running then.
///
/// What it does is counted ([`counts`](Self::counts), and
/// `webhook_inbox_events_total` with the `metrics` feature) and, given an
/// [`audit`](Self::audit) layer, recorded as audit events.
#[must_use = "a worker does nothing until spawned or run"]
pub struct Worker {
    inbox: Arc<dyn Inbox>,
    handler: Handler,
    name: Arc<str>,
    concurrency: usize,
    max_attempts: u32,
    backoff_base: Duration,
    backoff_cap: Duration,
    lease: Duration,
    handler_timeout: Duration,
    poll_interval: Duration,
    shutdown_grace: Duration,
    counters: InboxCounters,
    audit: Option<Arc<AuditConfig>>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("name", &self.name)
            .field("concurrency", &self.concurrency)
            .field("max_attempts", &self.max_attempts)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// A worker running `service` on each delivery; `Ok` completes it.
    pub fn new<S>(inbox: Arc<dyn Inbox>, service: S) -> Self
    where
        S: Service<Delivery> + Clone + Send + Sync + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
    {
        let handler: Handler = Arc::new(move |delivery| {
            let mut service = service.clone();
            Box::pin(async move {
                std::future::poll_fn(|cx| service.poll_ready(cx))
                    .await
                    .map_err(Into::into)?;
                service.call(delivery).await.map(drop).map_err(Into::into)
            })
        });
        Self::with_handler(inbox, handler)
    }

    /// A worker running the async closure `f` on each delivery; `Ok`
    /// completes it.
    pub fn from_fn<F, Fut, E>(inbox: Arc<dyn Inbox>, f: F) -> Self
    where
        F: Fn(Delivery) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<BoxError>,
    {
        let handler: Handler = Arc::new(move |delivery| {
            let future = f(delivery);
            Box::pin(async move { future.await.map_err(Into::into) })
        });
        Self::with_handler(inbox, handler)
    }

    fn with_handler(inbox: Arc<dyn Inbox>, handler: Handler) -> Self {
        Self {
            inbox,
            handler,
            name: Arc::from(format!(
                "worker-{}-{:x}",
                std::process::id(),
                super::new_token() & 0xffff_ffff
            )),
            concurrency: 4,
            max_attempts: 8,
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(300),
            lease: Duration::from_secs(30),
            handler_timeout: Duration::from_secs(300),
            poll_interval: Duration::from_millis(200),
            shutdown_grace: Duration::from_secs(10),
            counters: InboxCounters::default(),
            audit: None,
        }
    }

    /// The worker's name in the store (consumer name in Redis).
    pub fn name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.name = name.into();
        self
    }

    /// How many deliveries it runs at once (default 4).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Attempts before a delivery goes to the dead letters (default 8).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The first retry's delay and the longest (default 1 s, 5 min); each
    /// retry waits twice the one before.
    pub fn backoff(mut self, base: Duration, cap: Duration) -> Self {
        self.backoff_base = base;
        self.backoff_cap = cap.max(base);
        self
    }

    /// How long another worker must see no progress on a held delivery
    /// before it takes it over (default 30 s). Heartbeats come every
    /// quarter of it.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(40));
        self
    }

    /// How long one attempt may run before it is abandoned and retried
    /// (default 5 min).
    pub fn handler_timeout(mut self, timeout: Duration) -> Self {
        self.handler_timeout = timeout;
        self
    }

    /// How long to wait before looking again when the inbox had nothing due
    /// (default 200 ms).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// How long a shutdown waits for running handlers (default 10 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Count into `layer`'s counts instead of the worker's own, so that
    /// [`InboxLayer::counts`] covers both sides.
    pub fn count_with(mut self, layer: &InboxLayer) -> Self {
        self.counters = layer.counters().clone();
        self
    }

    /// What this worker counted.
    pub fn counts(&self) -> InboxCounts {
        self.counters.snapshot()
    }

    /// Also record each failed attempt (`webhook.inbox.retry`), dead letter
    /// (`webhook.inbox.dead_lettered`), takeover
    /// (`webhook.inbox.taken_over`) and lost hold
    /// (`webhook.inbox.hold_lost`) as an [`AuditEvent`] in the sinks of
    /// `audit` (typically the layer in front of the [`InboxLayer`](super::InboxLayer),
    /// whose `webhook.rejected` events with reason `store_unavailable`
    /// already show the deliveries the inbox refused). Its counters count
    /// requests only: these events are counted by the worker's
    /// [`counts`](Self::counts).
    pub fn audit(mut self, audit: &AuditLayer) -> Self {
        self.audit = Some(audit.shared_config());
        self
    }

    /// Run on the tokio runtime until [`WorkerHandle::shutdown`].
    pub fn spawn(self) -> WorkerHandle {
        let (stop, mut stopped) = watch::channel(false);
        let counters = self.counters.clone();
        let task = tokio::spawn(self.run(async move {
            let _ = stopped.wait_for(|&stop| stop).await;
        }));
        WorkerHandle {
            stop,
            task,
            counters,
        }
    }

    /// Run until `shutdown` completes, then shut down gracefully.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) {
        let shared = Arc::new(Shared {
            inbox: self.inbox,
            handler: self.handler,
            name: self.name,
            max_attempts: self.max_attempts,
            backoff_base: self.backoff_base,
            backoff_cap: self.backoff_cap,
            lease: self.lease,
            handler_timeout: self.handler_timeout,
            op_timeout: (self.lease / 4).min(Duration::from_secs(5)),
            counters: self.counters,
            audit: self.audit,
            own: Mutex::default(),
        });
        let permits = Arc::new(Semaphore::new(self.concurrency));
        let (abort, aborted) = watch::channel(false);
        let (stop, stopping) = watch::channel(false);
        let mut tasks = JoinSet::new();
        // One claiming loop per slot: claims overlap, so a store that
        // commits each write to disk (AOF `always`, SQLite FULL) batches
        // them instead of serialising the workers behind one round trip.
        for _ in 0..self.concurrency {
            let (shared, permits) = (Arc::clone(&shared), Arc::clone(&permits));
            let (stopping, aborted) = (stopping.clone(), aborted.clone());
            let poll = self.poll_interval;
            tasks.spawn(async move { shared.slot(permits, stopping, aborted, poll).await });
        }
        let mut observer = Observer::new(shared.lease);
        tokio::pin!(shutdown);
        loop {
            while tasks.try_join_next().is_some() {}
            shared
                .look_for_stalled(&mut observer, &permits, &mut tasks, &aborted)
                .await;
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = tokio::time::sleep(shared.lease / 4) => {}
            }
        }
        // Let what runs finish within the grace, then put the rest back.
        let _ = stop.send(true);
        let drained = tokio::time::timeout(self.shutdown_grace, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            let _ = abort.send(true);
            while tasks.join_next().await.is_some() {}
        }
    }
}

/// A running [`Worker`].
#[derive(Debug)]
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    counters: InboxCounters,
}

impl WorkerHandle {
    /// Stop taking deliveries, wait for the running ones (up to the grace),
    /// put back what still runs, and return what the worker counted.
    pub async fn shutdown(self) -> InboxCounts {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        self.counters.snapshot()
    }

    /// What the worker counted.
    pub fn counts(&self) -> InboxCounts {
        self.counters.snapshot()
    }
}

struct Shared {
    inbox: Arc<dyn Inbox>,
    handler: Handler,
    name: Arc<str>,
    max_attempts: u32,
    backoff_base: Duration,
    backoff_cap: Duration,
    lease: Duration,
    handler_timeout: Duration,
    op_timeout: Duration,
    counters: InboxCounters,
    audit: Option<Arc<AuditConfig>>,
    /// Tokens of the holds this worker has: never its own takeover.
    own: Mutex<HashSet<u64>>,
}

/// Which delivery an audit event is about.
struct Facts {
    key: Arc<str>,
    provider: Option<Arc<str>>,
    key_id: Option<Arc<str>>,
    tenant: Option<Arc<str>>,
}

impl Facts {
    fn of(delivery: &Delivery) -> Self {
        Self {
            key: Arc::clone(&delivery.key),
            provider: delivery.provider.clone(),
            key_id: delivery.key_id.clone(),
            tenant: delivery.tenant.clone(),
        }
    }
}

enum Ending {
    Done,
    Failed(String),
    Aborted,
}

impl Shared {
    async fn op<T>(
        &self,
        future: impl Future<Output = Result<T, InboxError>>,
    ) -> Result<T, InboxError> {
        match tokio::time::timeout(self.op_timeout, future).await {
            Ok(result) => result,
            Err(_) => Err(InboxError::Timeout),
        }
    }

    /// Record `outcome` about the delivery of `facts` in the audit sinks,
    /// if there are any.
    fn audit(
        &self,
        outcome: Outcome,
        facts: &Facts,
        attempt: u32,
        detail: Option<&str>,
        ran: Duration,
    ) {
        let Some(audit) = &self.audit else {
            return;
        };
        let mut event = AuditEvent::inbox(
            audit.names(),
            outcome,
            Arc::clone(&facts.key),
            attempt,
            detail,
            ran,
        );
        event.scheme = facts.provider.clone();
        event.key_id = facts.key_id.clone();
        event.tenant = facts.tenant.clone();
        audit.to_sinks(&event);
    }

    fn own(&self) -> std::sync::MutexGuard<'_, HashSet<u64>> {
        self.own.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn spawn(
        self: &Arc<Self>,
        claimed: Claimed,
        permit: OwnedSemaphorePermit,
        tasks: &mut JoinSet<()>,
        aborted: &watch::Receiver<bool>,
    ) {
        self.own().insert(claimed.claim.token);
        let shared = Arc::clone(self);
        let aborted = aborted.clone();
        tasks.spawn(async move {
            let token = claimed.claim.token;
            shared.process(claimed, aborted).await;
            shared.own().remove(&token);
            drop(permit);
        });
    }

    /// Claim and process, one delivery at a time, until told to stop.
    async fn slot(
        self: Arc<Self>,
        permits: Arc<Semaphore>,
        mut stopping: watch::Receiver<bool>,
        aborted: watch::Receiver<bool>,
        poll: Duration,
    ) {
        loop {
            if *stopping.borrow() {
                return;
            }
            let permit = tokio::select! {
                biased;
                _ = stopping.wait_for(|&stop| stop) => return,
                permit = Arc::clone(&permits).acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => return,
                },
            };
            match self.op(self.inbox.claim(&self.name)).await {
                Ok(Some(claimed)) => {
                    let token = claimed.claim.token;
                    self.own().insert(token);
                    self.process(claimed, aborted.clone()).await;
                    self.own().remove(&token);
                    drop(permit);
                    continue;
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(%error, worker = %self.name, "inbox: taking a delivery failed");
                }
            }
            drop(permit);
            tokio::select! {
                biased;
                _ = stopping.wait_for(|&stop| stop) => return,
                () = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// Read the held entries; take over those whose holder showed no
    /// progress for the lease, as far as free permits go.
    async fn look_for_stalled(
        self: &Arc<Self>,
        observer: &mut Observer,
        permits: &Arc<Semaphore>,
        tasks: &mut JoinSet<()>,
        aborted: &watch::Receiver<bool>,
    ) {
        let started = Instant::now();
        let read = self.op(self.inbox.held()).await;
        let ended = Instant::now();
        let read = read.map(|held| {
            let own = self.own();
            held.into_iter()
                .filter(|h| !own.contains(&h.token))
                .collect::<Vec<_>>()
        });
        for stalled in observer.observe(started, ended, read) {
            let Ok(permit) = Arc::clone(permits).try_acquire_owned() else {
                break;
            };
            observer.forget(&stalled.id);
            match self.op(self.inbox.take_over(&stalled, &self.name)).await {
                Ok(Some(claimed)) => {
                    self.counters.add(Counter::TakenOver);
                    self.audit(
                        Outcome::TakenOver,
                        &Facts::of(&claimed.delivery),
                        claimed.delivery.attempt,
                        None,
                        Duration::ZERO,
                    );
                    tracing::warn!(
                        worker = %self.name,
                        key = %claimed.delivery.key,
                        "inbox: took over a delivery whose worker showed no progress for the lease"
                    );
                    self.spawn(claimed, permit, tasks, aborted);
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(%error, worker = %self.name, "inbox: takeover failed");
                }
            }
        }
        #[cfg(feature = "metrics")]
        if let Ok(stats) = self.op(self.inbox.stats()).await {
            super::record_stats(&stats);
        }
    }

    async fn process(&self, claimed: Claimed, mut aborted: watch::Receiver<bool>) {
        let Claimed { claim, delivery } = claimed;
        let attempt = delivery.attempt;
        let facts = Facts::of(&delivery);
        let key = Arc::clone(&delivery.key);
        let began = Instant::now();
        // Its own task: a panic is a JoinError here, not this worker's end.
        let mut handler = tokio::spawn((self.handler)(delivery));
        let mut beats = tokio::time::interval(self.lease / 4);
        beats.tick().await;
        let deadline = tokio::time::sleep(self.handler_timeout);
        tokio::pin!(deadline);
        let ending = loop {
            tokio::select! {
                joined = &mut handler => break match joined {
                    Ok(Ok(())) => Ending::Done,
                    Ok(Err(error)) => Ending::Failed(error.to_string()),
                    Err(error) if error.is_panic() => Ending::Failed("the handler panicked".into()),
                    Err(_) => Ending::Failed("the handler was cancelled".into()),
                },
                _ = beats.tick() => {
                    if let Ok(false) = self.op(self.inbox.heartbeat(&claim)).await {
                        tracing::error!(worker = %self.name, %key, "inbox: hold lost while the handler runs");
                    }
                }
                () = &mut deadline => {
                    handler.abort();
                    break Ending::Failed(format!("the handler ran past {:?}", self.handler_timeout));
                }
                _ = async { aborted.wait_for(|&a| a).await.map(|_| ()) } => {
                    handler.abort();
                    break Ending::Aborted;
                }
            }
        };
        let (what, kept) = match &ending {
            Ending::Done => (
                "complete",
                self.settle(&claim, attempt, &ending, &mut aborted).await,
            ),
            Ending::Failed(error) => {
                tracing::warn!(worker = %self.name, %key, attempt, %error, "inbox: attempt failed");
                (
                    "reschedule",
                    self.settle(&claim, attempt, &ending, &mut aborted).await,
                )
            }
            Ending::Aborted => (
                "release",
                self.settle(&claim, attempt, &ending, &mut aborted).await,
            ),
        };
        let ran = began.elapsed();
        match (kept, &ending) {
            (Some(true), Ending::Done) => self.counters.add(Counter::Processed),
            (Some(true), Ending::Failed(error)) if attempt >= self.max_attempts => {
                self.counters.add(Counter::DeadLettered);
                self.audit(Outcome::DeadLettered, &facts, attempt, Some(error), ran);
                tracing::warn!(worker = %self.name, %key, attempt, "inbox: delivery moved to the dead letters");
            }
            (Some(true), Ending::Failed(error)) => {
                self.counters.add(Counter::Retry);
                self.audit(Outcome::Retry, &facts, attempt, Some(error), ran);
            }
            (Some(true), Ending::Aborted) => {}
            (Some(false), _) => {
                self.counters.add(Counter::HoldLost);
                self.audit(Outcome::HoldLost, &facts, attempt, None, ran);
                tracing::error!(
                    worker = %self.name,
                    %key,
                    "inbox: could not {what}: another worker took the delivery over"
                );
            }
            (None, _) => {
                tracing::error!(worker = %self.name, %key, "inbox: could not {what}: the store did not take it");
            }
        }
    }

    /// Write the end of an attempt, retrying while the store fails (beating
    /// in between, so the hold is kept) until it lands, the hold is gone,
    /// or the worker is told to stop. `None`: never written.
    async fn settle(
        &self,
        claim: &Claim,
        attempt: u32,
        ending: &Ending,
        aborted: &mut watch::Receiver<bool>,
    ) -> Option<bool> {
        let started = Instant::now();
        let mut pause = Duration::from_millis(50);
        loop {
            let result = match ending {
                Ending::Done => self.op(self.inbox.complete(claim)).await,
                Ending::Aborted => self.op(self.inbox.release(claim)).await,
                Ending::Failed(error) => self.op(self.fail(claim, attempt, error)).await,
            };
            match result {
                Ok(kept) => return Some(kept),
                Err(error) => {
                    tracing::warn!(%error, worker = %self.name, "inbox: recording an attempt failed; retrying");
                }
            }
            if *aborted.borrow() || started.elapsed() > self.lease * 10 {
                return None;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(self.lease / 4);
            let _ = self.op(self.inbox.heartbeat(claim)).await;
        }
    }

    fn fail<'a>(
        &'a self,
        claim: &'a Claim,
        attempt: u32,
        error: &'a str,
    ) -> super::InboxFuture<'a, bool> {
        if attempt >= self.max_attempts {
            self.inbox.dead_letter(claim, error)
        } else {
            let delay = self.backoff(attempt);
            let due =
                unix_millis().saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
            self.inbox.retry_at(claim, due, error)
        }
    }

    /// The delay before attempt `attempt + 1`: the base, doubled per
    /// attempt made, up to the cap.
    fn backoff(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        self.backoff_base
            .saturating_mul(1u32 << doublings)
            .min(self.backoff_cap)
    }
}
