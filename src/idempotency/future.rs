//! The response future: decide, run the handler, then record the outcome.

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use http::{Request, Response, StatusCode};
use pin_project_lite::pin_project;
use tower_service::Service;

use super::layer::Config;
use super::lease::{detach, grpc_ok, Lease, PendingOutcome};
use super::service::completes;
use super::store::Token;
use crate::body::{BufferedBody, ResponseBody};
use crate::context::WebhookContext;
use crate::guard::stop;
use crate::rejection::{Reason, Stop};

pub(crate) type Prepare = Pin<Box<dyn Future<Output = Decision> + Send>>;
type Finish = Pin<Box<dyn Future<Output = ()> + Send>>;

/// What the layer decided before the handler.
// The large variant is the usual one: boxing it would allocate per request.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Decision {
    /// Run the handler; with `hold`, the key was reserved and must be
    /// completed or released afterwards.
    Run {
        request: Request<BufferedBody>,
        hold: Option<Hold>,
    },
    /// Answer without the handler (a duplicate), or refuse (in flight, no
    /// key, store down).
    Stop(Stop),
}

/// A reservation this request holds.
pub(crate) struct Hold {
    pub(crate) key: String,
    pub(crate) token: Token,
}

pin_project! {
    /// Response future of [`Idempotency`](super::Idempotency).
    ///
    /// While the handler runs, the reservation is a lease renewed in the
    /// background. If this future is dropped first (the client hung up, a
    /// timeout fired) or the handler panics, the reservation is released at
    /// once, so the sender's retry runs the handler.
    pub struct ResponseFuture<S, B>
    where
        S: Service<Request<BufferedBody>>,
    {
        #[pin]
        state: State<S, B>,
        config: Arc<Config>,
        grpc: bool,
        context: WebhookContext,
    }

    impl<S, B> PinnedDrop for ResponseFuture<S, B>
    where
        S: Service<Request<BufferedBody>>,
    {
        fn drop(this: Pin<&mut Self>) {
            // Dropped while the outcome was being written: finish the write
            // on the runtime rather than leave the key reserved.
            if let StateProj::Recording { finish, .. } = this.project().state.project() {
                if let Some(finish) = finish.take() {
                    detach(finish);
                }
            }
        }
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, B>
    where
        S: Service<Request<BufferedBody>>,
    {
        Deciding {
            prepare: Prepare,
            inner: Option<S>,
        },
        Calling {
            #[pin]
            future: S::Future,
            lease: Option<Lease>,
        },
        Recording {
            finish: Option<Finish>,
            result: Option<Result<Response<B>, S::Error>>,
        },
    }
}

impl<S, B> ResponseFuture<S, B>
where
    S: Service<Request<BufferedBody>>,
{
    pub(crate) fn new(
        prepare: Prepare,
        inner: S,
        config: Arc<Config>,
        grpc: bool,
        context: WebhookContext,
    ) -> Self {
        Self {
            state: State::Deciding {
                prepare,
                inner: Some(inner),
            },
            config,
            grpc,
            context,
        }
    }
}

impl<S, B> Future for ResponseFuture<S, B>
where
    S: Service<Request<BufferedBody>, Response = Response<B>>,
{
    type Output = Result<Response<ResponseBody<B>>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Deciding { prepare, inner } => match ready!(prepare.as_mut().poll(cx)) {
                    Decision::Run { request, hold } => {
                        let mut inner = inner.take().expect("future polled after completion");
                        let lease = hold.map(|hold| {
                            Lease::start(
                                Arc::clone(&this.config.store),
                                hold.key,
                                hold.token,
                                this.config.lock_ttl,
                                this.config.counters.clone(),
                                Arc::clone(&this.config.watch),
                                // The request's start, read once (by the
                                // audit layer, when there is one): before the
                                // reservation, so renewals are only early.
                                // Under a paused tokio clock an instant
                                // ahead of it counts as no time elapsed.
                                tokio::time::Instant::from_std(this.context.started()),
                            )
                        });
                        let future = inner.call(request);
                        this.state.set(State::Calling { future, lease });
                    }
                    Decision::Stop(stopped) => {
                        return Poll::Ready(Ok(stop(stopped, *this.grpc, this.context)))
                    }
                },
                StateProj::Calling { future, lease } => {
                    // A panic unwinds on, but first marks the lease so its
                    // release (from Drop, once the runtime drops this future)
                    // and the audit event say what happened.
                    let polled = panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx)));
                    let result = match polled {
                        Ok(Poll::Ready(result)) => result,
                        Ok(Poll::Pending) => {
                            // The handler waits: from now on its lease
                            // needs renewing.
                            if let Some(lease) = lease.as_mut() {
                                lease.keep_alive();
                            }
                            return Poll::Pending;
                        }
                        Err(payload) => {
                            if let Some(lease) = lease.as_mut() {
                                lease.mark_panicked();
                            }
                            this.context.reject(Reason::Panicked);
                            panic::resume_unwind(payload);
                        }
                    };
                    let Some(lease) = lease.take() else {
                        return Poll::Ready(result.map(|r| r.map(ResponseBody::new)));
                    };
                    match verdict(this.config, *this.grpc, &result) {
                        Verdict::Trailers => {
                            // gRPC: the status comes after the body.
                            let ttl = retention(this.config.ttl, this.context);
                            let pending = PendingOutcome::new(lease, ttl);
                            return Poll::Ready(result.map(|response| {
                                response.map(|body| ResponseBody::settling(body, pending))
                            }));
                        }
                        Verdict::Now(outcome) => {
                            let ttl = retention(this.config.ttl, this.context);
                            let finish: Finish = Box::pin(lease.settle(outcome, ttl));
                            this.state.set(State::Recording {
                                finish: Some(finish),
                                result: Some(result),
                            });
                        }
                    }
                }
                StateProj::Recording { finish, result } => {
                    if let Some(pending) = finish.as_mut() {
                        ready!(pending.as_mut().poll(cx));
                        *finish = None;
                    }
                    let result = result.take().expect("future polled after completion");
                    return Poll::Ready(result.map(|r| r.map(ResponseBody::new)));
                }
            }
        }
    }
}

/// When and how the handler's answer settles the reservation.
enum Verdict {
    /// Now: complete with this status, or release (`None`).
    Now(Option<StatusCode>),
    /// When the body ends: a gRPC answer whose `grpc-status` is in the
    /// trailers.
    Trailers,
}

fn verdict<B, E>(config: &Config, grpc: bool, result: &Result<Response<B>, E>) -> Verdict {
    let Ok(response) = result else {
        return Verdict::Now(None);
    };
    let status = response.status();
    if grpc && status == StatusCode::OK {
        // gRPC answers every call with HTTP 200; a handler error is a
        // non-zero grpc-status, in the headers of a trailers-only answer or
        // in the trailers. It must release like a 5xx, or the sender's
        // retry is acknowledged and the delivery lost.
        if response.headers().contains_key("grpc-status") {
            return Verdict::Now(grpc_ok(Some(response.headers())).then_some(status));
        }
        return Verdict::Trailers;
    }
    Verdict::Now(completes(config, status).then_some(status))
}

/// The layer's TTL, or longer where the policy that verified the delivery
/// asks for its provider's retry horizon (a tenant of Stripe behind one
/// idempotency layer for every tenant).
fn retention(ttl: std::time::Duration, context: &WebhookContext) -> std::time::Duration {
    context
        .retention_floor()
        .map_or(ttl, |floor| ttl.max(floor))
}

impl crate::body::SettleOnEnd for PendingOutcome {
    fn poll_settle(
        &mut self,
        trailers: Option<&http::HeaderMap>,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        PendingOutcome::poll_settle(self, trailers, cx)
    }

    fn fail(&mut self) {
        PendingOutcome::fail(self);
    }

    fn is_settled(&self) -> bool {
        PendingOutcome::is_settled(self)
    }
}
