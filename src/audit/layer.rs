//! [`AuditLayer`] and its service.

use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime};

use http::{HeaderName, Method, Request, Response};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::counters::{AuditCounters, AuditCounts};
use super::event::{rfc3339, sanitise_request_id, AuditEvent, EventNames, Outcome};
use super::redact::{redact, SecretSegment};
use super::sink::{AuditSink, OnOutcome, TracingSink};
use crate::context::WebhookContext;
use crate::rejection::{Reason, Rejection};

/// Records one [`AuditEvent`] per request, accepted or rejected, with what
/// every inner layer decided. Place it outermost; see the
/// [module docs](super).
#[derive(Clone)]
#[must_use]
pub struct AuditLayer {
    config: Arc<AuditConfig>,
}

#[derive(Clone)]
pub(crate) struct AuditConfig {
    sinks: Vec<Arc<dyn AuditSink>>,
    counters: AuditCounters,
    names: EventNames,
    secret_segments: Vec<SecretSegment>,
}

impl AuditConfig {
    fn emit(&self, event: &AuditEvent) {
        self.counters.record(event);
        self.to_sinks(event);
    }

    /// The spelling of event names.
    pub(crate) fn names(&self) -> EventNames {
        self.names
    }

    /// `event` to every sink, not to the counters (an inbox worker's event
    /// is no request).
    pub(crate) fn to_sinks(&self, event: &AuditEvent) {
        for sink in &self.sinks {
            // A failing sink loses its event, never the request, the other
            // sinks, or the process: events are also emitted from `Drop`,
            // where a second panic during unwinding would abort.
            let recorded = panic::catch_unwind(AssertUnwindSafe(|| sink.record(event)));
            if recorded.is_err() {
                self.counters.record_sink_panic();
            }
        }
    }
}

impl fmt::Debug for AuditLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditLayer")
            .field("sinks", &self.config.sinks.len())
            .finish_non_exhaustive()
    }
}

impl Default for AuditLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl AuditLayer {
    /// Events to [`tracing`] (target `tower_webhook::audit`), and counters.
    pub fn new() -> Self {
        Self::without_sinks().sink(TracingSink)
    }

    /// Only the counters; add sinks with [`sink`](Self::sink).
    pub fn without_sinks() -> Self {
        Self {
            config: Arc::new(AuditConfig {
                sinks: Vec::new(),
                counters: AuditCounters::new(),
                names: EventNames::Current,
                secret_segments: Vec::new(),
            }),
        }
    }

    /// Also send every event to `sink`.
    pub fn sink(self, sink: impl AuditSink) -> Self {
        self.edit(|config| config.sinks.push(Arc::new(sink)))
    }

    /// Call `callback` for each accepted request.
    pub fn on_accept(self, callback: impl Fn(&AuditEvent) + Send + Sync + 'static) -> Self {
        self.sink(OnOutcome {
            outcome: Outcome::Accepted,
            callback,
        })
    }

    /// Call `callback` for each rejected request (not for duplicates: see
    /// [`on_duplicate`](Self::on_duplicate)).
    pub fn on_reject(self, callback: impl Fn(&AuditEvent) + Send + Sync + 'static) -> Self {
        self.sink(OnOutcome {
            outcome: Outcome::Rejected,
            callback,
        })
    }

    /// Call `callback` for each delivery acknowledged as a duplicate
    /// without running the handler.
    pub fn on_duplicate(self, callback: impl Fn(&AuditEvent) + Send + Sync + 'static) -> Self {
        self.sink(OnOutcome {
            outcome: Outcome::Duplicate,
            callback,
        })
    }

    /// Name events and fields in `names`' spelling: [`EventNames::Seed`]
    /// gives `webhook.triggered` / `webhook.rejected` with `auth` and
    /// `reason`, for dashboards built on the receiver this crate grew from.
    ///
    /// ```
    /// use tower_webhook::audit::{AuditLayer, EventNames};
    ///
    /// let audit = AuditLayer::new().event_names(EventNames::Seed);
    /// # let _ = audit;
    /// ```
    pub fn event_names(self, names: EventNames) -> Self {
        self.edit(|config| config.names = names)
    }

    /// Record path segment `index` (0-based: in `/hooks/<token>`, 1) as
    /// `<redacted>`, for every request. Token layers inside this one
    /// already mark the segments they read; this covers requests refused
    /// before a token layer ran (by an IP filter, an unknown tenant).
    pub fn redact_path_segment(self, index: usize) -> Self {
        self.edit(|config| config.secret_segments.push(SecretSegment::At(index)))
    }

    /// Record the path segment right after the first segment equal to
    /// `prefix` as `<redacted>` (`redact_path_after("hooks")` hides
    /// `/hooks/<token>`), for every request; see
    /// [`redact_path_segment`](Self::redact_path_segment).
    pub fn redact_path_after(self, prefix: impl Into<Arc<str>>) -> Self {
        let prefix = prefix.into();
        self.edit(|config| config.secret_segments.push(SecretSegment::After(prefix)))
    }

    /// The totals of this layer's events so far, shared by every clone of
    /// the layer: keep a clone to read them once the layer is in a stack.
    pub fn counts(&self) -> AuditCounts {
        self.config.counters.snapshot()
    }

    fn edit(mut self, f: impl FnOnce(&mut AuditConfig)) -> Self {
        f(Arc::make_mut(&mut self.config));
        self
    }

    pub(crate) fn shared_config(&self) -> Arc<AuditConfig> {
        Arc::clone(&self.config)
    }
}

impl<S> Layer<S> for AuditLayer {
    type Service = Audit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Audit::new(Some(self.shared_config()), inner)
    }
}

/// The service of [`AuditLayer`].
#[derive(Clone)]
pub struct Audit<S> {
    config: Option<Arc<AuditConfig>>,
    inner: S,
}

impl<S: fmt::Debug> fmt::Debug for Audit<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Audit")
            .field("enabled", &self.config.is_some())
            .field("inner", &self.inner)
            .finish()
    }
}

impl<S> Audit<S> {
    /// `None`: pass straight through (a stack built without audit).
    pub(crate) fn new(config: Option<Arc<AuditConfig>>, inner: S) -> Self {
        Self { config, inner }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, unwrapped.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Audit<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let record = self.config.as_ref().map(|config| {
            let context = WebhookContext::of(&mut request);
            Record {
                config: Arc::clone(config),
                // The monotonic start is the context's, shared with the
                // idempotency lease: one clock read for both.
                start: context.started(),
                context,
                method: request.method().clone(),
                path: request.uri().path().to_owned(),
                request_id: request
                    .headers()
                    .get(X_REQUEST_ID)
                    .and_then(|id| sanitise_request_id(id.as_bytes())),
                at: SystemTime::now(),
            }
        });
        ResponseFuture {
            inner: self.inner.call(request),
            record,
        }
    }
}

/// What the future needs to write the event.
struct Record {
    config: Arc<AuditConfig>,
    context: WebhookContext,
    method: Method,
    path: String,
    request_id: Option<Arc<str>>,
    at: SystemTime,
    start: Instant,
}

/// The header tower-http's `SetRequestIdLayer` writes.
const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What the response head says beyond its status.
#[derive(Default)]
struct Answer {
    reason: Option<Reason>,
    kind: Option<&'static str>,
    detail: Option<Arc<str>>,
    grpc_status: Option<u16>,
    request_id: Option<Arc<str>>,
}

impl Answer {
    fn of<B>(response: &Response<B>) -> Self {
        let rejection = Rejection::of(response);
        Self {
            reason: response.extensions().get::<Reason>().copied(),
            kind: crate::rejection::Answer::of(response).map(crate::rejection::Answer::kind),
            detail: rejection.and_then(|r| r.detail()).map(Arc::from),
            grpc_status: response
                .headers()
                .get("grpc-status")
                .and_then(|code| code.to_str().ok()?.parse().ok()),
            // A `SetRequestIdLayer` inside this one numbered the request
            // after we saw it; `PropagateRequestIdLayer` returns the id.
            request_id: response
                .headers()
                .get(X_REQUEST_ID)
                .and_then(|id| sanitise_request_id(id.as_bytes())),
        }
    }
}

/// What became of the request, for the event.
#[derive(Clone, Copy)]
enum Ending {
    Answered,
    Failed,
    Cancelled,
}

impl Record {
    fn emit(self, status: u16, answer: Answer, ending: Ending) {
        // The verification and the segments the token layers marked, under
        // one lock.
        let (mut verification, mut secret) = self.context.snapshot_for_audit();
        // A layer that answered without the context still tags its answer.
        verification.rejection = verification.rejection.or(answer.reason);
        verification.answer = verification.answer.or(answer.kind);
        if matches!(ending, Ending::Cancelled) {
            // Never `webhook.accepted`: no answer reached the sender, who
            // will retry. A panicking handler was already tagged `panicked`.
            verification.rejection = verification.rejection.or(Some(Reason::Cancelled));
        }
        secret.extend(
            self.config
                .secret_segments
                .iter()
                .filter_map(|segment| segment.index(&self.path)),
        );
        let path = if secret.is_empty() {
            self.path
        } else {
            redact(&self.path, &secret)
        };
        let mut event = AuditEvent::new(
            verification,
            status,
            self.method,
            path,
            self.start.elapsed(),
            matches!(ending, Ending::Failed),
            matches!(ending, Ending::Cancelled),
        );
        event.names = self.config.names;
        event.event = self.config.names.name(event.outcome);
        event.timestamp = rfc3339(self.at);
        event.request_id = self.request_id.or(answer.request_id);
        event.detail = answer.detail;
        event.grpc_status = answer.grpc_status;
        self.config.emit(&event);
    }
}

pin_project! {
    /// Response future of [`Audit`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        record: Option<Record>,
    }

    impl<F> PinnedDrop for ResponseFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            // Dropped before the response: the client went away (or a
            // timeout fired). The request still gets its event.
            if let Some(record) = this.project().record.take() {
                record.emit(CANCELLED_STATUS, Answer::default(), Ending::Cancelled);
            }
        }
    }
}

/// The status recorded for a request dropped before it was answered
/// (nginx's "client closed request"); no response was sent.
pub(crate) const CANCELLED_STATUS: u16 = 499;

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let output = std::task::ready!(this.inner.poll(cx));
        if let Some(record) = this.record.take() {
            match &output {
                Ok(response) => record.emit(
                    response.status().as_u16(),
                    Answer::of(response),
                    Ending::Answered,
                ),
                Err(_) => record.emit(500, Answer::default(), Ending::Failed),
            }
        }
        Poll::Ready(output)
    }
}
