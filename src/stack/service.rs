//! The layer and service [`WebhookStack::build`](super::WebhookStack::build)
//! returns.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use http_body::Body;
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::audit::{self, Audit, AuditConfig};
use crate::body::{BoxError, BufferedBody, ResponseBody};
use crate::chain::CheckChain;
use crate::guard::{AsyncGuardFuture, BodyGuard};
use crate::idempotency::{self, Idempotency, IdempotencyLayer};

/// Every protection of a [`WebhookStack`](super::WebhookStack) as one
/// [`Layer`]: audit, the checks behind one body buffer, then idempotency.
#[derive(Clone)]
pub struct WebhookLayer {
    pub(super) audit: Option<Arc<AuditConfig>>,
    pub(super) checks: Arc<CheckChain>,
    pub(super) idempotency: Option<IdempotencyLayer>,
}

impl std::fmt::Debug for WebhookLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookLayer")
            .field("audit", &self.audit.is_some())
            .field("checks", &self.checks)
            .field("idempotency", &self.idempotency)
            .finish()
    }
}

impl<S> Layer<S> for WebhookLayer {
    type Service = WebhookService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        let inner = match &self.idempotency {
            Some(layer) => MaybeIdempotent::On {
                service: layer.layer(inner),
            },
            None => MaybeIdempotent::Off { service: inner },
        };
        let guard = BodyGuard::new(Arc::clone(&self.checks), inner);
        WebhookService {
            audit: Audit::new(self.audit.clone(), guard),
        }
    }
}

/// The service of [`WebhookLayer`]. The inner service receives the request
/// with a [`BufferedBody`] once every check has passed.
#[derive(Clone, Debug)]
pub struct WebhookService<S> {
    audit: Audit<BodyGuard<CheckChain, MaybeIdempotent<S>>>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for WebhookService<S>
where
    S: Service<Request<BufferedBody>, Response = Response<ResBody>> + Clone,
    ReqBody: Body + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody<ResponseBody<ResBody>>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Service::<Request<ReqBody>>::poll_ready(&mut self.audit, cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        ResponseFuture {
            inner: self.audit.call(request),
        }
    }
}

pin_project! {
    /// Response future of [`WebhookService`].
    pub struct ResponseFuture<S, B>
    where
        S: Service<Request<BufferedBody>, Response = Response<B>>,
        S: Clone,
    {
        #[pin]
        inner: audit::ResponseFuture<
            AsyncGuardFuture<MaybeIdempotent<S>, Request<BufferedBody>, ResponseBody<B>>,
        >,
    }
}

impl<S, B> Future for ResponseFuture<S, B>
where
    S: Service<Request<BufferedBody>, Response = Response<B>> + Clone,
{
    type Output = Result<Response<ResponseBody<ResponseBody<B>>>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().inner.poll(cx)
    }
}

/// The inner service, with or without idempotency; one response body type
/// either way.
#[derive(Clone, Debug)]
pub(crate) enum MaybeIdempotent<S> {
    /// Idempotency configured.
    On {
        /// The idempotency service around the handler.
        service: Idempotency<S>,
    },
    /// Straight to the handler.
    Off {
        /// The handler.
        service: S,
    },
}

impl<S, ResBody> Service<Request<BufferedBody>> for MaybeIdempotent<S>
where
    S: Service<Request<BufferedBody>, Response = Response<ResBody>> + Clone,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = MaybeIdempotentFuture<S, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        match self {
            MaybeIdempotent::On { service } => {
                Service::<Request<BufferedBody>>::poll_ready(service, cx)
            }
            MaybeIdempotent::Off { service } => service.poll_ready(cx),
        }
    }

    fn call(&mut self, request: Request<BufferedBody>) -> Self::Future {
        match self {
            MaybeIdempotent::On { service } => MaybeIdempotentFuture::On {
                future: service.call(request),
            },
            MaybeIdempotent::Off { service } => MaybeIdempotentFuture::Off {
                future: service.call(request),
            },
        }
    }
}

pin_project! {
    /// Response future of [`MaybeIdempotent`].
    #[project = MaybeIdempotentFutureProj]
    #[allow(missing_docs)]
    pub(crate) enum MaybeIdempotentFuture<S, B>
    where
        S: Service<Request<BufferedBody>>,
    {
        /// Through the idempotency layer.
        On { #[pin] future: idempotency::ResponseFuture<S, B> },
        /// Straight from the handler.
        Off { #[pin] future: S::Future },
    }
}

impl<S, B> Future for MaybeIdempotentFuture<S, B>
where
    S: Service<Request<BufferedBody>, Response = Response<B>>,
{
    type Output = Result<Response<ResponseBody<B>>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            MaybeIdempotentFutureProj::On { future } => future.poll(cx),
            MaybeIdempotentFutureProj::Off { future } => future
                .poll(cx)
                .map_ok(|response| response.map(ResponseBody::new)),
        }
    }
}
