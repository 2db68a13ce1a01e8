//! The response future: decide, run the handler, then record the outcome.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use http::{Request, Response, StatusCode};
use pin_project_lite::pin_project;
use tower_service::Service;

use super::layer::Config;
use super::service::completes;
use super::store::{StoredOutcome, Token};
use crate::body::{BufferedBody, ResponseBody};
use crate::context::WebhookContext;
use crate::guard::refuse;
use crate::rejection::Rejection;

pub(crate) type Prepare = Pin<Box<dyn Future<Output = Decision> + Send>>;
type Finish = Pin<Box<dyn Future<Output = ()> + Send>>;

/// What the layer decided before the handler.
pub(crate) enum Decision {
    /// Run the handler; with `hold`, the key was reserved and must be
    /// completed or released afterwards.
    Run {
        request: Request<BufferedBody>,
        hold: Option<Hold>,
    },
    /// Answer without the handler (duplicate, in flight, no key, store down).
    Answer(Rejection),
}

/// A reservation this request holds.
pub(crate) struct Hold {
    pub(crate) key: String,
    pub(crate) token: Token,
}

pin_project! {
    /// Response future of [`Idempotency`](super::Idempotency).
    ///
    /// If it is dropped while the handler runs (the client hung up), the
    /// reservation is left to expire after the lock TTL: a retry before then
    /// gets `409`.
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
            hold: Option<Hold>,
        },
        Recording {
            finish: Finish,
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
                        let future = inner.call(request);
                        this.state.set(State::Calling { future, hold });
                    }
                    Decision::Answer(rejection) => {
                        return Poll::Ready(Ok(refuse(rejection, *this.grpc, this.context)))
                    }
                },
                StateProj::Calling { future, hold } => {
                    let result = ready!(future.poll(cx));
                    let Some(hold) = hold.take() else {
                        return Poll::Ready(result.map(|r| r.map(ResponseBody::new)));
                    };
                    let outcome = match &result {
                        Ok(response) if completes(this.config, response.status()) => {
                            Some(response.status())
                        }
                        _ => None,
                    };
                    let finish = record(this.config, hold, outcome);
                    this.state.set(State::Recording {
                        finish,
                        result: Some(result),
                    });
                }
                StateProj::Recording { finish, result } => {
                    ready!(finish.as_mut().poll(cx));
                    let result = result.take().expect("future polled after completion");
                    return Poll::Ready(result.map(|r| r.map(ResponseBody::new)));
                }
            }
        }
    }
}

/// Complete the key with `outcome`, or release it when there is none. Runs
/// before the response leaves, so the sender's next retry sees the result.
fn record(config: &Arc<Config>, hold: Hold, outcome: Option<StatusCode>) -> Finish {
    let store = Arc::clone(&config.store);
    let ttl = config.ttl;
    Box::pin(async move {
        let recorded = match outcome {
            Some(status) => {
                store
                    .complete(&hold.key, &hold.token, StoredOutcome::new(status), ttl)
                    .await
            }
            None => store.release(&hold.key, &hold.token).await,
        };
        match recorded {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                "idempotency: the reservation expired while the handler ran \
                 (lock TTL shorter than the handler?); outcome not recorded"
            ),
            // The handler already ran: its response still goes out. The
            // reservation expires after the lock TTL.
            Err(error) => tracing::warn!(%error, "idempotency: could not record the outcome"),
        }
    })
}
